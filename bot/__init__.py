"""Tracker package."""
