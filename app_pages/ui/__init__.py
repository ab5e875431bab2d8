"""Rendering helpers shared by pages (not pages themselves)."""
