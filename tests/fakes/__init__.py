"""Local stand-ins for the platforms we cannot reach: aiohttp apps speaking their wire formats."""
