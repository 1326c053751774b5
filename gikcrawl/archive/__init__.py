"""The WARC archive: every request and response as sent and received, standard WARC/1.1 (warcio)."""
