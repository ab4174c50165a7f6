"""The coordinator desk: sign-in, lead review, pipeline, facilitators, mail log, export, stats."""
