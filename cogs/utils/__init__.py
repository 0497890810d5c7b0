"""What the cogs share: the emotion chart, embeds, views and the one error reply."""
