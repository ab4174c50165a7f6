"""Desk accounts, their sessions, access guards and API tokens."""
