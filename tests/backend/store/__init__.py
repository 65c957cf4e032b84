"""The store: metric chunks, the batch writer, migrations, concurrent writes."""
