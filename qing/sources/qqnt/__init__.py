"""The QQ NT client's databases (shared/qq-nt-format.md): SQLCipher decryption, the message tables, the
protobuf message body and its faces."""
