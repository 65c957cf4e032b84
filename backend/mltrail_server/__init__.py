"""mltrail server."""
