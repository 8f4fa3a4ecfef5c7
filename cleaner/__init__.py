"""cleaner: turn a folder of scraped Chinese text into a clean, deduplicated corpus."""

__version__ = "0.1.0"
