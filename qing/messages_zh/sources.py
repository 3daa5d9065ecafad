"""Chinese of where messages come from: qing/sources/ (decrypt, export, QQ NT, QCE, WeClone, Telegram)."""

ZH = {
    "{path} is already a plain SQLite database; give it to `qing export` directly.":
        "{path} 已经是未加密的 SQLite 数据库；请直接交给 `qing export`。",
    "{path} is truncated ({size} bytes is not a 1024-byte header plus whole 4096-byte pages); copy it again while QQ "
    "is closed.":
        "{path} 不完整（{size} 字节不是 1024 字节的文件头加上整数个 4096 字节的页）；请在 QQ 关闭时重新复制。",
    "{path} is empty; copy the database again while QQ is closed.": "{path} 是空的；请在 QQ 关闭时重新复制数据库。",
    "{path} is not a QQ NT or SQLCipher database: it has no QQ_NT DB header and its size ({size} bytes) is not a "
    "whole number of 4096-byte pages.":
        "{path} 不是 QQ NT 或 SQLCipher 数据库：它没有 QQ_NT DB 文件头，大小（{size} 字节）也不是 4096 字节的整数倍。",
    "{path} has no QQ NT header with a rand field, so --uid cannot derive its key (it works for Android databases); "
    "pass --key instead.":
        "{path} 没有带 rand 字段的 QQ NT 文件头，--uid 无法推导出它的密钥（--uid 只适用于 Android 的数据库）；请改用 "
        "--key。",
    "cannot read the WAL file {wal} ({reason}); it holds the newest messages, so fix its permissions and try again.":
        "无法读取 WAL 文件 {wal}（{reason}）；最新的消息在它里面，请修改它的权限后重试。",
    "{wal} beside the database is not a SQLite WAL file, so the newest messages in it cannot be read; copy it again "
    "with the database while QQ is closed, or move it away to decrypt without it.":
        "数据库旁边的 {wal} 不是 SQLite WAL 文件，其中最新的消息无法读取；请在 QQ 关闭时把它和数据库一起重新复制，"
        "或把它移走，不带它解密。",
    "the database is damaged or cut short ({size:,} bytes after its header: not whole {page}-byte pages of a "
    "database); copy it again while QQ is closed.":
        "数据库已损坏或不完整（文件头之后有 {size:,} 字节，不是整数个 {page} 字节的数据库页）；请在 QQ 关闭时"
        "重新复制。",
    "the key is right, but the database's first page is damaged, so it cannot be opened; copy it again while QQ is "
    "closed.":
        "密钥正确，但数据库的第一页已损坏，无法打开；请在 QQ 关闭时重新复制。",
    "the key does not open this database with {tried} (PBKDF2_HMAC_SHA512, 4000 iterations, 4096-byte pages): check "
    "the key (16 characters on desktop, 32 hex characters on Android), or the file is not a QQ NT database.":
        "这个密钥用 {tried}（PBKDF2_HMAC_SHA512，4000 次迭代，4096 字节的页）打不开数据库：请检查密钥（电脑版 16 个"
        "字符，Android 版 32 个十六进制字符），或者这个文件不是 QQ NT 数据库。",
    "not enough disk space in {directory}: decrypting needs about {needed} free, there is {free}; free some space or "
    "choose another -o.":
        "{directory} 的磁盘空间不足：解密需要约 {needed} 的可用空间，现在只有 {free}；请腾出空间，或用 -o 另选位置。",
    "the database key is empty; pass --key, set QING_KEY, or type it at the prompt.":
        "数据库密钥为空；请加 --key、设置 QING_KEY，或在提示时输入。",
    "unknown --hmac {hmac!r}; use auto, sha1, sha256 or sha512.":
        "未知的 --hmac {hmac!r}；请用 auto、sha1、sha256 或 sha512。",
    "the output path is the input; choose another with -o.": "输出路径就是输入；请用 -o 另选。",
    "the disk is full": "磁盘已满",
    "SQLCipher said: {error}": "SQLCipher 报告：{error}",
    "decrypting failed while writing the plain database ({reason}); the database may be damaged or the disk full.":
        "写入解密后的数据库时失败（{reason}）；数据库可能已损坏，或磁盘已满。",
    "the decrypted database does not open as plain SQLite ({reason}); the input may be damaged.":
        "解密后的数据库无法作为普通 SQLite 打开（{reason}）；输入可能已损坏。",
    "unknown element type {number}": "未知的元素类型 {number}",
    "bad time": "时间无效",
    "null body": "消息体为空值（NULL）",
    "number body": "消息体是数字",
    "bad protobuf": "protobuf 损坏",
    "varint body": "消息体只有整数字段",
    "empty body": "消息体为空",
    "no elements": "没有消息元素",
    "reply target not found": "找不到引用的消息",
    "{path} is encrypted; pass --key (or set QING_KEY) to read it, or run `qing decrypt` on it first.":
        "{path} 是加密的；请加 --key（或设置 QING_KEY）来读取它，或先对它运行 `qing decrypt`。",
    "{path} does not open as a SQLite database ({reason}); is it the right file?":
        "{path} 无法作为 SQLite 数据库打开（{reason}）；是不是选错了文件？",
    "{db} has no c2c_msg_table, so it is not a QQ NT message database; give the nt_msg.db file.":
        "{db} 里没有 c2c_msg_table，所以它不是 QQ NT 的消息数据库；请给出 nt_msg.db 文件。",
    "could not tell which QQ number is yours from the messages; pass --me YOUR_QQ_NUMBER.":
        "无法从消息中判断哪个 QQ 号是你的；请加 --me 你的QQ号。",
    "{path} has no profile_info_v6 table with uins, so it is not a QQ NT profile_info.db.":
        "{path} 里没有带 uin 的 profile_info_v6 表，所以它不是 QQ NT 的 profile_info.db。",
    "{table} has no msgId column (40001); this client version is not supported yet.":
        "{table} 里没有 msgId 列（40001）；暂不支持这个版本的客户端。",
    "{path} has no messages list, so it is not a QQ Chat Exporter JSON export.":
        "{path} 里没有 messages 列表，所以它不是 QQ Chat Exporter 导出的 JSON 文件。",
    "chunk {file} named in {manifest} is missing; copy the whole export folder.":
        "{manifest} 里列出的分块 {file} 不存在；请复制整个导出文件夹。",
    "{file} line {number} is not JSON ({reason}).": "{file} 第 {number} 行不是 JSON（{reason}）。",
    "QQ Chat Exporter export": "QQ Chat Exporter 导出文件",
    "{path}: message {number} is not in QQ Chat Exporter's shape ({reason}); export the chat again, or pass --from to "
    "read it as another format.":
        "{path}：第 {number} 条消息不是 QQ Chat Exporter 的格式（{reason}）；请重新导出这个会话，或用 --from 按另一种"
        "格式读取。",
    "cannot tell which sender is you in {path} (its chatInfo has no self fields); senders: {senders}. Pass --me "
    "YOUR_QQ_NUMBER.":
        "无法判断 {path} 里哪个发送者是你（它的 chatInfo 里没有本人的字段）；发送者有：{senders}。请加 --me 你的QQ号。",
    "{path}: message {number} has no numeric timestamp.": "{path}：第 {number} 条消息没有数字形式的时间戳。",
    "{path}: message {number} has no ISO timestamp.": "{path}：第 {number} 条消息没有 ISO 格式的时间戳。",
    "Telegram Desktop export": "Telegram Desktop 导出文件",
    "{path} has neither messages nor chats, so it is not a Telegram Desktop export.":
        "{path} 里既没有 messages 也没有 chats，所以它不是 Telegram Desktop 的导出文件。",
    "cannot tell which sender is you in chat {chat!r} of {path}; senders: {senders}. Pass --me with your id (e.g. --me "
    "123 for user123).":
        "无法判断 {path} 的会话 {chat!r} 里哪个发送者是你；发送者有：{senders}。请用 --me 给出你的 id（例如 user123 "
        "就用 --me 123）。",
    "{path}: message {id} has no date.": "{path}：id 为 {id} 的消息没有日期。",
    "input {path} does not exist.": "输入 {path} 不存在。",
    "QQ NT databases (nt_msg.db, plain or with --key), QQ Chat Exporter JSON or chunked JSONL folders, WeClone CSV "
    "(WeClone, WeFlow, PyWxDump) and Telegram Desktop result.json":
        "QQ NT 数据库（nt_msg.db，未加密的，或加密的加 --key）、QQ Chat Exporter 的 JSON 文件或分块 JSONL 文件夹、"
        "WeClone CSV（WeClone、WeFlow、PyWxDump）和 Telegram Desktop 的 result.json",
    "{path} is not an export qing can read; it reads {supported}.":
        "{path} 不是 qing 能读取的导出文件；qing 能读取的有：{supported}。",
    "{path} holds no messages.": "{path} 里没有消息。",
    "{entry} in {folder} is a QQ NT database; export it on its own (it needs --key or qing decrypt), then the folder "
    "without it.":
        "{folder} 里的 {entry} 是 QQ NT 数据库；请单独导出它（需要 --key 或先 qing decrypt），再导出不含它的文件夹。",
    "{folder} holds no export qing can read; it reads {supported}.":
        "{folder} 里没有 qing 能读取的导出文件；qing 能读取的有：{supported}。",
    "unknown --format {format!r}; use one of: {choices}.": "未知的 --format {format!r}；请用其中之一：{choices}。",
    "{path} is not UTF-8 text (byte {byte} of a read block is not), so not a WeClone CSV; save it again as UTF-8 CSV.":
        "{path} 不是 UTF-8 文本（读取的一块中第 {byte} 个字节不是），所以不是 WeClone CSV；请重新保存为 UTF-8 编码的 "
        "CSV。",
    "{path} lacks the WeClone CSV column(s) {columns}; the header must be {header} (room_name may be absent).":
        "{path} 缺少 WeClone CSV 的列 {columns}；表头必须是 {header}（room_name 可以没有）。",
    "{path} line {number} is not valid CSV ({reason}).": "{path} 第 {number} 行不是有效的 CSV（{reason}）。",
    "{path} line {number}: CreateTime {time!r} is not a date and time; expected e.g. 2024-10-04 11:42:05.":
        "{path} 第 {number} 行：CreateTime {time!r} 不是日期时间；应该形如 2024-10-04 11:42:05。",
    "--format csv writes a folder with one folder per chat (WeClone's dataset/csv), not one file; give a folder with "
    "-o, e.g. -o {folder} or -o dataset/csv.":
        "--format csv 写出的是一个文件夹，每个会话一个子文件夹（WeClone 的 dataset/csv），而不是一个文件；请用 -o "
        "给出文件夹，例如 -o {folder} 或 -o dataset/csv。",
    "output {path} is a file; --format csv writes a folder: give one with -o.":
        "输出 {path} 是一个文件；--format csv 写出的是文件夹：请用 -o 给出一个文件夹。",
    "output folder {path} is not empty; pass --force to replace what qing wrote there, or -o for another folder.":
        "输出文件夹 {path} 不是空的；加 --force 替换 qing 在那里写过的内容，或用 -o 另选文件夹。",
}
