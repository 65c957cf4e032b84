"""The search language: parser and SQL compiler."""
