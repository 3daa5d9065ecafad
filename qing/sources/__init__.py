"""Where messages come from: each reader turns one kind of chat history into messages.jsonl (contract 1).

`qqnt` reads the QQ NT client's databases (decrypt, export, the message body); `qce`, `weclone` and
`telegram` read other tools' exports; `export_other` recognises those and writes them through
`messages_writer`, the one writer of contract 1 (and of WeClone's CSV layout).
"""
