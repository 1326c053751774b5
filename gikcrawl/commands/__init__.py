"""Scrapy commands of the project (COMMANDS_MODULE): `crawl` with readable start-up errors and exit codes."""
