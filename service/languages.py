"""The languages Quote Desk speaks with patients, by their own names: the form offers them, the
patient's emails are written in them, and facilitators say which of them they speak."""

LANGUAGES = {"en": "English", "fr": "Français", "nl": "Nederlands", "de": "Deutsch"}
