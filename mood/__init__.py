"""Emotion + the user's words + preferences -> a MoodProfile."""
