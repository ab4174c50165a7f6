"""The lead's whole life: the request, its consent proof, routing, pipeline, timeline and emails."""
