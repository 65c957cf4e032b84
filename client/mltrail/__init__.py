"""mltrail client."""
