"""The catalog, the recommender, Spotify and listen links."""
