"""The closed sets of values of decrypt and export. Light to import on purpose: the CLI lists them in its
options, and `qing --help` must start fast."""

INPUT_FORMATS = ("auto", "qq-nt", "qce", "weclone-csv", "telegram")  # and "folder": several exports, each by content
OUTPUT_FORMATS = ("jsonl", "csv")
HMACS = {"sha1": "HMAC_SHA1", "sha512": "HMAC_SHA512", "sha256": "HMAC_SHA256"}  # dict order = try order
