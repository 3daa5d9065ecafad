"""The Chinese of every message qing shows: English template (as written in the code, inside `_()`) -> Chinese.

Keep each template's {placeholders} in its Chinese (tests/test_i18n.py checks them, and that every `_()` of the
code is here and nothing else is). One section per part of the package, in pipeline order. Terms: 数据库 database,
密钥 key, 消息 message, 会话 chat, 样本 sample, 训练 training, 微调 finetune, 模型 model, 适配器 adapter,
量化 quantize, 输出 output; commands, options and file names stay as typed (qing export, --force, messages.jsonl).
"""

ZH = {
    # --- the frame every command shares: qing/cli/app.py, qing/extras.py, qing/files.py, qing/config.py ---
    "error": "错误",
    "interrupted": "已中断",
    "stopped by {signal}": "被 {signal} 终止",
    "nothing half-written was left behind.": "没有留下写了一半的文件。",
    "the disk is full{where}; free some space or write the output elsewhere with -o.":
        "磁盘已满{where}；请腾出空间，或用 -o 把输出写到别处。",
    "no permission to write or read{where}: {what}; choose another path with -o, or fix its permissions.":
        "没有读写权限{where}：{what}；请用 -o 换一个路径，或修改它的权限。",
    "the disk could not read or write{where} (I/O error); check the drive, then run again.":
        "磁盘读写失败{where}（I/O 错误）；请检查磁盘后重试。",
    "a database is damaged ({reason}); copy it again from the source, or decrypt it again.":
        "数据库已损坏（{reason}）；请从源头重新复制，或重新解密。",
    "`qing {command}` needs {module}, from the {extra} extra: {install}.":
        "`qing {command}` 需要 {module}，它来自 {extra} 扩展：{install}。",
    "unexpected error": "意外错误",
    "this is a bug in qing. Re-run with --verbose for the traceback and report it.":
        "这是 qing 的缺陷。请加 --verbose 重新运行以查看调用栈，并报告给我们。",
    "pip install 'qing[{extra}]' (or -e \".[{extra}]\" in the repo)":
        "pip install 'qing[{extra}]'（在仓库里用 -e \".[{extra}]\"）",
    "input file": "输入文件",
    "{what} {path} does not exist.": "{what} {path} 不存在。",
    "{what} {path} is not a file.": "{what} {path} 不是文件。",
    "{what} {path} is not readable; check its permissions.": "{what} {path} 不可读；请检查它的权限。",
    "{path} is not complete JSON ({reason}); the export may be truncated.":
        "{path} 不是完整的 JSON（{reason}）；导出文件可能被截断了。",
    "{path} is not a {what} (not a JSON object).": "{path} 不是 {what}（不是 JSON 对象）。",
    "output {output} is the input {input}; choose another output with -o.":
        "输出 {output} 就是输入 {input}；请用 -o 另选输出。",
    "output {output} holds the input {input}; choose another output with -o.":
        "输出 {output} 里有输入 {input}；请用 -o 另选输出。",
    " and {count} more": " 等另外 {count} 个",
    "{directory} holds files that {command} did not write ({shown}); --force replaces only its own output: choose "
    "another directory with -o.":
        "{directory} 里有不是 {command} 写的文件（{shown}）；--force 只替换它自己的输出：请用 -o 另选目录。",
    "output {path} already exists; pass --force to overwrite it or -o to choose another path.":
        "输出 {path} 已存在；加 --force 覆盖它，或用 -o 另选路径。",
    "output {path} is a directory; give a file path with -o.": "输出 {path} 是一个目录；请用 -o 给出文件路径。",
    "cannot write in {directory} ({reason}); choose another output with -o.":
        "无法写入 {directory}（{reason}）；请用 -o 另选输出。",
    "{path} is not UTF-8 text (PowerShell's > writes UTF-16); save it again as UTF-8, e.g. Set-Content .env "
    "-Encoding utf8.":
        "{path} 不是 UTF-8 文本（PowerShell 的 > 会写成 UTF-16）；请另存为 UTF-8，"
        "例如 Set-Content .env -Encoding utf8。",
    "database": "数据库",
    "profile database": "资料数据库",
    "dataset file": "数据集文件",
    "messages file": "消息文件",
    "replacements file": "替换规则文件",

    # --- where messages come from: qing/sources/ (decrypt, export, QQ NT, QCE, WeClone, Telegram) ---
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

    # --- the dataset: qing/dataset/ (clean, personal data, clean-llm) ---
    "unknown --media {media!r}; use drop or keep.": "未知的 --media {media!r}；请用 drop 或 keep。",
    "--eval-ratio must be at least 0 and below 1, not {ratio}.": "--eval-ratio 必须不小于 0 且小于 1，不能是 {ratio}。",
    "--max-tokens {tokens} is too small for a conversation; use 64 or more.":
        "--max-tokens {tokens} 太小，放不下一段对话；请用 64 或更大的值。",
    "--merge-window must be 0 or more and --session-gap more than 0 seconds.":
        "--merge-window 必须不小于 0 秒，--session-gap 必须大于 0 秒。",
    "line {number} of {path} is not 'old => new'.": "{path} 第 {number} 行不是 'old => new' 的格式。",
    "line {number} of {path} is not a message of messages.jsonl ({reason}; a message has {keys}); fix it, or pass "
    "--skip-bad-lines.":
        "{path} 第 {number} 行不是 messages.jsonl 的消息（{reason}；一条消息要有 {keys}）；请修正它，或加 "
        "--skip-bad-lines。",
    "--tokenizer needs the tokenizers package: pip install 'qing[train]'.":
        "--tokenizer 需要 tokenizers 包：pip install 'qing[train]'。",
    "no tokenizer.json at {path}; give the file or the model directory holding it.":
        "{path} 处没有 tokenizer.json；请给出这个文件，或包含它的模型目录。",
    "{file} is not a tokenizer.json the tokenizers library can read ({reason}).":
        "{file} 不是 tokenizers 库能读取的 tokenizer.json（{reason}）。",
    "output directory {output} already exists; pass --force to replace it or -o for another.":
        "输出目录 {output} 已存在；加 --force 替换它，或用 -o 另选目录。",
    "output {output} is a file; give a directory with -o.": "输出 {output} 是一个文件；请用 -o 给出目录。",
    "{messages} holds no messages; export some with `qing export` first.":
        "{messages} 里没有消息；请先用 `qing export` 导出。",
    "none of the messages in {messages} is from the owner (is_me); run `qing export` again with --me "
    "YOUR_QQ_NUMBER.":
        "{messages} 里没有一条消息是本人发的（is_me）；请加上 --me 你的QQ号，重新运行 `qing export`。",
    "{path} is a database, not messages.jsonl; run `qing export {path}` first (with --key if it is encrypted), then "
    "clean what it writes.":
        "{path} 是数据库，不是 messages.jsonl；请先运行 `qing export {path}`（数据库加密时要加 --key），再清洗它导出的"
        "文件。",
    "{path} is a binary file, not messages.jsonl; `qing export` writes messages.jsonl from your database or another "
    "tool's export.":
        "{path} 是二进制文件，不是 messages.jsonl；`qing export` 可以从你的数据库或其他工具的导出文件生成 "
        "messages.jsonl。",
    "system": "系统消息",
    "recall": "撤回提示",
    "unknown": "未知类型",
    "media only": "只有媒体",
    "bad line": "不是消息的行",
    "group chat (use --groups)": "群聊（要用请加 --groups）",
    "turn pair over the token budget": "一问一答超出 token 预算",
    "no owner words": "本人的回复里没有文字",
    "long run shortened": "缩短了长串重复字符",
    "blocked word": "含屏蔽词",
    "empty": "清洗后为空",
    "joined to alternate": "合并以保持一问一答交替",
    "opener added before owner's first turn": "在本人开场的一轮前加上了开场白",
    "owner opened (no --owner-opener)": "本人开场（没有 --owner-opener）",
    "unanswered at session end": "会话末尾没有得到本人回复",
    "conversation without your reply": "对话里没有你的回复",
    "exact duplicate": "完全重复",
    "near duplicate": "几乎重复",
    "estimate": "估算",
    "tokenizer {path}": "分词器 {path}",
    "--plot needs matplotlib: pip install 'qing[plot]'.": "--plot 需要 matplotlib：pip install 'qing[plot]'。",
    "turn length (characters)": "每轮长度（字符）",
    "sample length (tokens)": "样本长度（token）",
    "{where} is not a chat sample: it needs a 'messages' list of role/content objects.":
        "{where} 不是聊天样本：它需要一个由 role/content 对象组成的 'messages' 列表。",
    "{where}: turns must alternate user/assistant and end with the assistant's.":
        "{where}：各轮必须在 user 和 assistant 之间交替，并以 assistant 的一轮结尾。",
    "line {number} of {path} is not JSON.": "{path} 第 {number} 行不是 JSON。",
    "line {number} of {path}": "{path} 第 {number} 行",
    "{dataset} is not a dataset directory; give the one `qing clean` wrote.":
        "{dataset} 不是数据集目录；请给出 `qing clean` 写出的目录。",
    "{dataset} holds no samples.": "{dataset} 里没有样本。",
    "no usable answer": "没有可用的回答",
    "HTTP 400 from the server": "服务器返回 HTTP 400",
    "no answer": "没有回答",
    "--base-url {url!r} is not a server address; give one like http://127.0.0.1:1234/v1 (LM Studio), "
    "http://127.0.0.1:8000/v1 (vLLM) or http://127.0.0.1:11434/v1 (Ollama).":
        "--base-url {url!r} 不是服务器地址；请给出类似 http://127.0.0.1:1234/v1（LM Studio）、"
        "http://127.0.0.1:8000/v1（vLLM）或 http://127.0.0.1:11434/v1（Ollama）的地址。",
    "qing clean-llm needs the openai package: pip install 'qing[llm]'.":
        "qing clean-llm 需要 openai 包：pip install 'qing[llm]'。",
    "the server at {url} refused the API key; check --api-key / QING_LLM_API_KEY.":
        "{url} 的服务器拒绝了 API 密钥；请检查 --api-key / QING_LLM_API_KEY。",
    "cannot reach an OpenAI-compatible server at {url}; start LM Studio / Ollama / vLLM there, or fix --base-url.":
        "无法连接 {url} 上的 OpenAI 兼容服务器；请在那里启动 LM Studio / Ollama / vLLM，或修改 --base-url。",
    "the server at {url} answered HTTP {status} to /models; is --base-url the OpenAI-compatible endpoint (it usually "
    "ends in /v1)?":
        "{url} 的服务器对 /models 返回了 HTTP {status}；--base-url 是 OpenAI 兼容的接口地址吗（通常以 /v1 结尾）？",
    "the server has no model {model!r}, nor any other; load one there, then pass its name with --model.":
        "服务器上没有模型 {model!r}，也没有任何别的模型；请先在服务器上加载一个，再用 --model 指定它的名字。",
    "the server has no model {model!r}; it offers: {models}. Pass one with --model.":
        "服务器上没有模型 {model!r}；它提供的有：{models}。请用 --model 指定其中一个。",
    "no model given: pass --model (or set QING_LLM_MODEL); `qing clean-llm --check` lists them.":
        "没有指定模型：请加 --model（或设置 QING_LLM_MODEL）；`qing clean-llm --check` 会列出可用的模型。",
    "--batch and --concurrency must be at least 1, and --min-score between 1 and 5.":
        "--batch 和 --concurrency 至少为 1，--min-score 必须在 1 到 5 之间。",
    "{output} already holds a finished run; pass --force to write it again (scores in its cache are reused) or -o "
    "for another directory.":
        "{output} 里已有一次完成的运行；加 --force 重新写出（会复用缓存里的分数），或用 -o 另选目录。",
    "{failed} of {total} samples could not be scored ({errors}); the {scored} scored are saved - run the same command "
    "again to retry the rest.":
        "{total} 个样本中有 {failed} 个无法打分（{errors}）；已打分的 {scored} 个已保存，再运行同一条命令即可重试"
        "其余的。",
    "below min score": "低于 --min-score",
    "too long to score": "太长，无法打分",
    "all turns noise": "所有轮次都是噪声",

    # --- the model: qing/model/ (run folder, finetune, infer, gguf, quantize, eval, serve) ---
    # run, base model, finetune, quantize, gguf, chat format
    "{path} cannot be read as JSON; is {adapter} a LoRA adapter?":
        "{path} 无法按 JSON 读取；{adapter} 是 LoRA 适配器吗？",
    "{folder} is not a run directory of `qing finetune` (no {run_file}).":
        "{folder} 不是 `qing finetune` 的训练目录（里面没有 {run_file}）。",
    "{path} is damaged (not JSON); train again, or restore it from a copy.":
        "{path} 已损坏（不是 JSON）；请重新训练，或从备份恢复它。",
    "{path} is damaged (not the run file `qing finetune` writes); train again, or restore it from a copy.":
        "{path} 已损坏（不是 `qing finetune` 写的训练文件）；请重新训练，或从备份恢复它。",
    "--resume needs a run directory; {folder} holds no {run_file}.":
        "--resume 需要一个训练目录；{folder} 里没有 {run_file}。",
    "output {folder} already exists; pass --resume to continue it, --force to replace it, or -o to choose another "
    "directory.":
        "输出 {folder} 已存在；加 --resume 接着训练，加 --force 替换它，或用 -o 另选目录。",
    "{folder} is not a qing run directory; refusing to replace it. Choose another -o.":
        "{folder} 不是 qing 的训练目录，不会替换它。请用 -o 另选目录。",
    "{folder} holds no finished adapter: its training stopped before the end; `qing finetune DATASET -o {folder} "
    "--resume` continues it from its last checkpoint.":
        "{folder} 里没有训练完成的适配器：训练在结束前停止了；`qing finetune DATASET -o {folder} --resume` "
        "会从最后一个检查点接着训练。",
    "{folder} holds no finished adapter yet; wait for `qing finetune` to end (or train it again if it was stopped "
    "before its first checkpoint).":
        "{folder} 里还没有训练完成的适配器；请等 `qing finetune` 结束（如果它在第一个检查点之前就停了，请重新训练）。",
    "model {model} is neither a directory nor a model id like Qwen/Qwen3-8B-Base.":
        "模型 {model} 既不是目录，也不是 Qwen/Qwen3-8B-Base 这样的模型 ID。",
    "unknown --source {source!r}; use modelscope or hf.": "未知的 --source {source!r}；请用 modelscope 或 hf。",
    "downloading from {source} needs the train extra: pip install 'qing[train]' ({module}).":
        "从 {source} 下载需要 train 扩展：pip install 'qing[train]'（缺少 {module}）。",
    "model {model} was not found on {source}; check the id, or try --source {other}.":
        "在 {source} 上找不到模型 {model}；请检查 ID，或试试 --source {other}。",
    "could not download {model} from {source} ({error}): check the network, or download it yourself and pass its "
    "directory to --model. A rerun resumes the download.":
        "无法从 {source} 下载 {model}（{error}）：请检查网络，或自己下载后把目录传给 --model。重新运行会接着下载。",
    "the download of {model} from {source} holds no config.json; is it a model id?":
        "从 {source} 下载的 {model} 里没有 config.json；它是模型 ID 吗？",
    "unknown --quant {quant!r}; use one of: {choices}.": "未知的 --quant {quant!r}；请用其中之一：{choices}。",
    "--quant 4bit/8bit needs bitsandbytes: pip install bitsandbytes, or use --quant none.":
        "--quant 4bit/8bit 需要 bitsandbytes：pip install bitsandbytes，或改用 --quant none。",
    "transformers cannot load the model in {model_dir} ({reason}).":
        "transformers 无法加载 {model_dir} 里的模型（{reason}）。",
    "{dataset} has no train.jsonl; run `qing clean` first.": "{dataset} 里没有 train.jsonl；请先运行 `qing clean`。",
    "{path} holds no samples.": "{path} 里没有样本。",
    "unknown --moe-lora-scope {scope!r}; use {choices}.": "未知的 --moe-lora-scope {scope!r}；请用 {choices}。",
    "no module of the model matches the LoRA targets; check --target-modules (or the MoE patterns, with --moe-dry-run "
    "to list them).":
        "模型里没有与 LoRA 目标匹配的模块；请检查 --target-modules（或 MoE 的模式，可用 --moe-dry-run "
        "列出匹配的模块）。",
    "an MoE module pattern is not a valid regular expression ({reason}).":
        "有一个 MoE 模块模式不是有效的正则表达式（{reason}）。",
    "every training sample is longer than --max-length {max_length}; raise it, or re-run `qing clean` with "
    "--max-tokens of the same value.":
        "每个训练样本都超过了 --max-length {max_length}；请调大它，或用相同数值的 --max-tokens 重新运行 `qing clean`。",
    "note: {total} optimizer steps in all, fewer than --save-steps {save_steps}: the only checkpoint is the last one; "
    "a lower --save-steps lets --resume pick up after a crash.":
        "注意：总共只有 {total} 个优化步，少于 --save-steps {save_steps}：唯一的检查点就是最后一个；把 --save-steps "
        "调低，训练中断后 --resume 才能接着训练。",
    "CUDA ran out of memory; try --quant 4bit, a shorter --max-length (1024), --per-device-train-batch-size 1 or "
    "--no-packing.":
        "CUDA 显存不足；试试 --quant 4bit、更短的 --max-length（1024）、--per-device-train-batch-size 1 或 "
        "--no-packing。",
    "merging the adapter into a fresh 16-bit copy of the base -> {path}":
        "正在把适配器合并进基座模型新加载的 16 位副本 -> {path}",
    "{flag} {value} is out of range: it must be at least 1 (16 is usual).":
        "{flag} {value} 超出范围：必须至少为 1（通常用 16）。",
    "{flag} {value} is out of range: it must be above 0 (twice --lora-r is usual).":
        "{flag} {value} 超出范围：必须大于 0（通常用 --lora-r 的两倍）。",
    "{flag} {value} is out of range: it must be from 0 up to (not including) 1.":
        "{flag} {value} 超出范围：必须不小于 0 且小于 1。",
    "{flag} {value} is out of range: it must be above 0 and below 1 (2e-4 is usual).":
        "{flag} {value} 超出范围：必须大于 0 且小于 1（通常用 2e-4）。",
    "{flag} {value} is out of range: it must be -1 (run the epochs) or at least 1.":
        "{flag} {value} 超出范围：必须为 -1（按轮数训练）或至少为 1。",
    "{flag} {value} is out of range: it must be above 0.": "{flag} {value} 超出范围：必须大于 0。",
    "{flag} {value} is out of range: it must be 0 or more.": "{flag} {value} 超出范围：必须大于或等于 0。",
    "{flag} {value} is out of range: it must be at least 1.": "{flag} {value} 超出范围：必须至少为 1。",
    "{flag} {value} is out of range: it must be at least 16 (2048 is usual).":
        "{flag} {value} 超出范围：必须至少为 16（通常用 2048）。",
    "unknown --lr-scheduler-type {name!r}; use one of: {choices}.":
        "未知的 --lr-scheduler-type {name!r}；请用其中之一：{choices}。",
    "unknown --optim {name!r}; use a name transformers knows (adamw_torch_fused, adamw_torch, adamw_8bit, ...).":
        "未知的 --optim {name!r}；请用 transformers 认识的名字（adamw_torch_fused、adamw_torch、adamw_8bit……）。",
    "note: no CUDA GPU here: --quant {quant} needs one, so this run trains unquantized (fp32 on the CPU).":
        "注意：这台机器没有 CUDA GPU，而 --quant {quant} 需要它，所以这次不量化训练（在 CPU 上用 fp32）。",
    "data: {samples:,} samples in {rows:,} rows, {tokens:,} tokens ({trained:,} trained), padding {padding:.1%}, rows "
    "{fill:.0%} full; {too_long:,} longer than --max-length skipped":
        "数据：{samples:,} 个样本装成 {rows:,} 行，{tokens:,} 个 token（其中 {trained:,} 个参与训练），padding 占 "
        "{padding:.1%}，行填充率 {fill:.0%}；跳过了 {too_long:,} 个超过 --max-length 的样本",
    "data: {samples:,} samples in {rows:,} rows, {tokens:,} tokens ({trained:,} trained), padding {padding:.1%}, rows "
    "{fill:.0%} full":
        "数据：{samples:,} 个样本装成 {rows:,} 行，{tokens:,} 个 token（其中 {trained:,} 个参与训练），padding 占 "
        "{padding:.1%}，行填充率 {fill:.0%}",
    "variable-length FlashAttention": "变长 FlashAttention",
    "{name} attention": "{name} 注意力",
    "model {model} on {device}, {quantized}, {attention}{kernels}; {rows} {rows_noun} per micro-step, {steps} "
    "{steps_noun} per update":
        "模型 {model}，设备 {device}，{quantized}，{attention}{kernels}；每个 micro-step {rows} {rows_noun}，每次更新 "
        "{steps} {steps_noun}",
    "not quantized": "未量化",
    ", Liger kernels": "，Liger 内核",
    "rows": "行",
    "row": "行",
    "micro-steps": "个 micro-step",
    "micro-step": "个 micro-step",
    "LoRA on fused expert weights cannot use dropout (peft): lora_dropout is 0 for this run.":
        "融合的专家权重上的 LoRA 不能用 dropout（peft 的限制）：这次训练的 lora_dropout 设为 0。",
    "{folder} has no complete checkpoint to resume from yet (one is saved every --save-steps).":
        "{folder} 里还没有可以接着训练的完整检查点（每 --save-steps 步保存一个）。",
    "smallest (~2.9 GB for 7B); clearly worse, only when nothing else fits":
        "最小（7B 约 2.9 GB）；质量明显变差，只在别的都放不下时用",
    "~3.2 GB for 7B; very small, noticeable quality loss": "7B 约 3.2 GB；很小，质量损失明显",
    "~3.5 GB for 7B; small, quality loss on hard prompts": "7B 约 3.5 GB；较小，难的提示上质量有损失",
    "~3.8 GB for 7B; small, a little better than Q3_K_M": "7B 约 3.8 GB；较小，比 Q3_K_M 略好",
    "~4.1 GB for 7B; legacy 4-bit, prefer Q4_K_M": "7B 约 4.1 GB；旧式 4 位，建议改用 Q4_K_M",
    "~4.5 GB for 7B; legacy 4-bit, prefer Q4_K_M": "7B 约 4.5 GB；旧式 4 位，建议改用 Q4_K_M",
    "~4.1 GB for 7B; good balance, slightly smaller than Q4_K_M": "7B 约 4.1 GB；大小和质量均衡，比 Q4_K_M 略小",
    "~4.4 GB for 7B; recommended default: good quality at a quarter of F16":
        "7B 约 4.4 GB；推荐的默认类型：质量好，大小是 F16 的四分之一",
    "~5.0 GB for 7B; legacy 5-bit, prefer Q5_K_M": "7B 约 5.0 GB；旧式 5 位，建议改用 Q5_K_M",
    "~5.4 GB for 7B; legacy 5-bit, prefer Q5_K_M": "7B 约 5.4 GB；旧式 5 位，建议改用 Q5_K_M",
    "~5.0 GB for 7B; high quality": "7B 约 5.0 GB；高质量",
    "~5.1 GB for 7B; high quality, close to F16": "7B 约 5.1 GB；高质量，接近 F16",
    "~5.9 GB for 7B; very close to F16": "7B 约 5.9 GB；非常接近 F16",
    "~7.6 GB for 7B; practically lossless, half of F16": "7B 约 7.6 GB；几乎无损，大小是 F16 的一半",
    "~14 GB for 7B; no quantization (16-bit floats)": "7B 约 14 GB；不量化（16 位浮点）",
    "~14 GB for 7B; no quantization (bfloat16, as most models are trained)":
        "7B 约 14 GB；不量化（bfloat16，大多数模型就是用它训练的）",
    "~28 GB for 7B; 32-bit floats, only for debugging": "7B 约 28 GB；32 位浮点，只用于调试",
    "{qtype} needs an importance matrix (llama.cpp's llama-imatrix), which qing does not make; use a K-quant such as "
    "Q4_K_M or Q3_K_M (`qing quantize --list`).":
        "{qtype} 需要重要性矩阵（llama.cpp 的 llama-imatrix），qing 不生成它；请用 Q4_K_M、Q3_K_M 这样的 "
        "K-quant（`qing quantize --list` 列出全部类型）。",
    "unknown quantization type {qtype!r}; `qing quantize --list` shows the choices.":
        "未知的量化类型 {qtype!r}；`qing quantize --list` 会列出可选的类型。",
    "output {output} is the input; give another output path.": "输出 {output} 就是输入；请另给一个输出路径。",
    "output {output} already exists; pass --force to overwrite it, or give another output path after the input (qing "
    "quantize {input} OTHER.gguf).":
        "输出 {output} 已存在；加 --force 覆盖它，或在输入后面另给一个输出路径（qing quantize {input} OTHER.gguf）。",
    "the quantized file": "量化后的文件",
    "quantizing {input} to {qtype} (minutes for an 8B model)...":
        "正在把 {input} 量化为 {qtype}（8B 模型需要几分钟）……",
    "quantizing needs llama-cpp-python (pip install 'qing[gguf]') or --llama-cpp DIR with a built llama.cpp.":
        "量化需要 llama-cpp-python（pip install 'qing[gguf]'），或用 --llama-cpp DIR 指定一个编译好的 llama.cpp。",
    "this llama-cpp-python has no {qtype} quantization; upgrade it or pass --llama-cpp DIR.":
        "当前的 llama-cpp-python 不支持 {qtype} 量化；请升级它，或加 --llama-cpp DIR。",
    "llama.cpp could not quantize {input} to {qtype} (error {code}); check that the file is a complete model GGUF.":
        "llama.cpp 无法把 {input} 量化为 {qtype}（错误码 {code}）；请确认它是完整的模型 GGUF 文件。",
    "no llama-quantize under {llama_cpp}; build llama.cpp there (cmake -B build && cmake --build build --target "
    "llama-quantize).":
        "{llama_cpp} 下没有 llama-quantize；请先在那里编译 llama.cpp（cmake -B build && cmake --build build --target "
        "llama-quantize）。",
    "llama-quantize failed ({reason}).": "llama-quantize 失败（{reason}）。",
    "see its output": "见它的输出",
    "unknown --outtype {outtype!r}; choose one of {choices}.":
        "未知的 --outtype {outtype!r}；请从 {choices} 中选一个。",
    "{model_dir} has no tokenizer.json; save the tokenizer beside the model (tokenizer.save_pretrained).":
        "{model_dir} 里没有 tokenizer.json；请把分词器保存在模型旁边（tokenizer.save_pretrained）。",
    "architecture {arch} has no native converter (qing converts {archs}); pass --llama-cpp DIR (a llama.cpp checkout) "
    "to use its convert_hf_to_gguf.py.":
        "架构 {arch} 没有内置转换器（qing 能转换 {archs}）；请加 --llama-cpp DIR（llama.cpp 源码目录）来用它的 "
        "convert_hf_to_gguf.py。",
    "the tokenizer of {model_dir} is not a byte-level BPE with a pre-tokenizer qing knows (Qwen2/Qwen3/Llama-3 "
    "style); pass --llama-cpp DIR (a llama.cpp checkout) to use its convert_hf_to_gguf.py.":
        "{model_dir} 的分词器不是字节级 BPE，或者它的预分词器 qing 不认识（认识的是 Qwen2/Qwen3/Llama-3 风格）；请加 "
        "--llama-cpp DIR（llama.cpp 源码目录）来用它的 convert_hf_to_gguf.py。",
    "{llama_cpp} has no convert_hf_to_gguf.py; give --llama-cpp the root of a llama.cpp checkout.":
        "{llama_cpp} 里没有 convert_hf_to_gguf.py；--llama-cpp 要给 llama.cpp 源码的根目录。",
    "llama.cpp's convert_hf_to_gguf.py failed: {reason}; check that the checkout is recent and its requirements are "
    "installed (pip install -r requirements.txt).":
        "llama.cpp 的 convert_hf_to_gguf.py 失败：{reason}；请确认源码够新，并且装好了它的依赖（pip install -r "
        "requirements.txt）。",
    "(no output)": "（没有输出）",
    "{path} does not exist.": "{path} 不存在。",
    "{path} is not valid JSON ({reason}); the {what} may be truncated.":
        "{path} 不是有效的 JSON（{reason}）；{what}可能被截断了。",
    "{model_dir} is not a directory; give the Hugging Face model directory (with config.json).":
        "{model_dir} 不是目录；请给出 Hugging Face 模型目录（里面有 config.json）。",
    "{model_dir} is a fine-tuning run, not a model; give its merged model {merged}.":
        "{model_dir} 是微调的训练目录，不是模型；请给出它合并后的模型 {merged}。",
    "model config": "模型配置",
    "{model_dir} has no config.json; give a Hugging Face model directory (for a LoRA run, merge the adapter first).":
        "{model_dir} 里没有 config.json；请给出 Hugging Face 模型目录（LoRA 训练请先合并适配器）。",
    "safetensors index": "safetensors 索引",
    "{model_dir} has no .safetensors weights; save the model with save_pretrained (safe_serialization=True).":
        "{model_dir} 里没有 .safetensors 权重；请用 save_pretrained（safe_serialization=True）保存模型。",
    "weight shard {path} is missing; copy the whole model directory.": "缺少权重分片 {path}；请复制整个模型目录。",
    "{path} is not a safetensors file (too short); it may be truncated.":
        "{path} 不是 safetensors 文件（太短）；它可能被截断了。",
    "{path} is not a safetensors file (bad header); it may be truncated.":
        "{path} 不是 safetensors 文件（文件头损坏）；它可能被截断了。",
    "{path} is shorter than its header says; the download or copy was cut short.":
        "{path} 比它的文件头说的短；下载或复制没有完成。",
    "tensor {tensor} in {path} is {dtype}; qing converts BF16, F16 and F32 weights (dequantize the model first, or "
    "pass --llama-cpp DIR).":
        "{path} 里的张量 {tensor} 是 {dtype}；qing 只转换 BF16、F16 和 F32 权重（请先把模型反量化，或加 --llama-cpp "
        "DIR）。",
    "{path} ended early; the download or copy was cut short.": "{path} 提前结束；下载或复制没有完成。",
    "tensor {tensor} of {model_dir} has no GGUF name for {arch}; the checkpoint is not a plain causal LM (merge LoRA "
    "adapters first).":
        "{model_dir} 的张量 {tensor} 在 {arch} 里没有对应的 GGUF 名称；这个检查点不是普通的因果语言模型（请先合并 "
        "LoRA 适配器）。",
    "{model_dir} has no token embedding (model.embed_tokens.weight); the weights are incomplete.":
        "{model_dir} 里没有词嵌入（model.embed_tokens.weight）；权重不完整。",
    "the GGUF file": "GGUF 文件",
    "tensor {tensor} came out {written} bytes instead of {expected}; the weights do not match config.json.":
        "张量 {tensor} 写出了 {written} 字节，应为 {expected} 字节；权重与 config.json 不符。",
    "config.json has no {key}; the model directory is incomplete.": "config.json 里没有 {key}；模型目录不完整。",
    "rope scaling {rope_type!r} is not supported by the native converter; pass --llama-cpp DIR to use llama.cpp's.":
        "内置转换器不支持 rope scaling {rope_type!r}；请加 --llama-cpp DIR 改用 llama.cpp 的转换器。",
    "tokenizer config": "分词器配置",
    "the tokenizer has token ids up to {top} but the model's embedding has {rows} rows; the tokenizer does not belong "
    "to this model.":
        "分词器的 token ID 最大到 {top}，但模型的词嵌入只有 {rows} 行；这个分词器不属于这个模型。",
    "generation config": "生成配置",
    "{folder} has {free} free but {what} needs about {needed}; free some space or write elsewhere with -o.":
        "{what}大约需要 {needed}，但 {folder} 只剩 {free}；请腾出空间，或用 -o 写到别处。",
    "{path} holds a LoRA adapter: merging it into a 16-bit copy of its base first ({merged}).":
        "{path} 里是 LoRA 适配器：先把它合并进基座模型的 16 位副本（{merged}）。",
    "input {path} does not exist or is not a file.": "输入 {path} 不存在或不是文件。",
    "{path} is not a GGUF file; convert a Hugging Face model first with `qing gguf`.":
        "{path} 不是 GGUF 文件；请先用 `qing gguf` 转换 Hugging Face 模型。",
    "unknown template kind {kind!r}; use chatml or qwen3.": "未知的模板类型 {kind!r}；请用 chatml 或 qwen3。",
    "the system prompt contains \"\"\", which a Modelfile cannot hold; remove it.":
        "系统提示里含有 \"\"\"，Modelfile 无法容纳；请删掉它。",
    "unknown --template {template!r}; use one of: {choices}.":
        "未知的 --template {template!r}；请用其中之一：{choices}。",
    "{model_dir} has no tokenizer transformers can load ({error}).":
        "{model_dir} 里没有 transformers 能加载的分词器（{error}）。",
    "the chat template could not be rendered ({reason}).": "无法渲染对话模板（{reason}）。",
    "the chat template ends a reply without a special token; pass --template chatml.":
        "对话模板在回复结尾没有放特殊 token；请加 --template chatml。",
    "the chat template does not render message texts verbatim; pass --template chatml.":
        "对话模板没有原样渲染消息文本；请加 --template chatml。",

    "no loss.png: matplotlib is not installed ({install}); metrics.jsonl has the same figures.":
        "没有生成 loss.png：未安装 matplotlib（{install}）；metrics.jsonl 里有同样的数字。",
    "stopping after this step, with a checkpoint to --resume from ({signal} again stops at once).":
        "本步结束后停止，并保存检查点供 --resume 继续（再来一次 {signal} 则立即停止）。",

    # eval, infer, serve
    "length, median (characters)": "长度中位数（字符）",
    "length, p90 (characters)": "长度 p90（字符）",
    "empty replies (share)": "空回复（占比）",
    "QQ faces / stickers per reply": "每条回复的 QQ 表情 / 表情包数",
    "emoji per reply": "每条回复的 emoji 数",
    "ends with 。 (share)": "以 。 结尾（占比）",
    "ends with ！ (share)": "以 ！ 结尾（占比）",
    "ends with ？ (share)": "以 ？ 结尾（占比）",
    "ends with ~ (share)": "以 ~ 结尾（占比）",
    "ends without a mark (share)": "结尾没有标点（占比）",
    "multi-line replies (share)": "多行回复（占比）",
    "top-{count} character bigrams shared with the real replies": "与真实回复共有的前 {count} 个高频字符二元组（占比）",
    "distinct-1 (unique characters / characters)": "distinct-1（不同的字 / 总字数）",
    "distinct-2 (unique bigrams / bigrams)": "distinct-2（不同的二元组 / 二元组总数）",
    "replies identical to another context's (share)": "与另一个上下文的回复一字不差（占比）",
    "{path} does not exist; pass --dataset with the directory `qing clean` wrote.":
        "{path} 不存在；请用 --dataset 给出 `qing clean` 写出的目录。",
    "{path} holds no samples; evaluation needs at least one conversation.": "{path} 里没有样本；评估至少需要一段对话。",
    "{model}, adapter off": "{model}，关闭适配器",
    "the run does not say which dataset it was trained on; pass --dataset.":
        "训练目录里没有记下训练用的是哪个数据集；请用 --dataset 指定。",
    "dataset {path} does not exist; pass --dataset with the directory `qing clean` wrote.":
        "数据集 {path} 不存在；请用 --dataset 给出 `qing clean` 写出的目录。",
    "output {path} is a file; give a directory with -o.": "输出 {path} 是一个文件；请用 -o 给出目录。",
    "{path} already exists; pass --force to overwrite it or -o to choose another directory.":
        "{path} 已存在；加 --force 覆盖它，或用 -o 另选目录。",
    "none of the {count} eval samples fits the run's max length ({max_length} tokens).":
        "{count} 个评估样本全都超过了训练时的最大长度（{max_length} 个 token）。",
    "the last assistant turn of each sample; the turns before it are the context":
        "每个样本最后一轮 assistant 的回复；它之前的各轮是上下文",
    "character bigrams, top {count}": "字符二元组（取前 {count} 个）",
    "measure": "指标",
    "real": "真实回复",
    "perplexity of the real replies": "真实回复的困惑度",
    "loss of the real replies": "真实回复的损失",
    "too few to judge: only {count} contexts were evaluated, and on so few a share in these tables can differ between "
    "two models by up to ±{margin:.2f} by chance alone; evaluate at least {minimum} (a higher --limit, or a larger "
    "eval set: qing clean --eval-ratio).":
        "上下文太少，结果不足为据：只评估了 {count} 个上下文，这么少时，表中的占比在两个模型之间仅凭偶然就可能相差 "
        "±{margin:.2f}；请至少评估 {minimum} 个（调大 --limit，或用 qing clean --eval-ratio 留出更大的评估集）。",
    "model": "模型",
    "loss": "损失",
    "perplexity": "困惑度",
    "tokens": "token 数",
    "perplexity vs base": "困惑度（相对 base）",
    "perplexity vs tuned": "困惑度（相对 tuned）",
    "gap {model}": "{model} 差值",
    "who": "来源",
    "reply": "回复",
    "loss of the real reply": "真实回复的损失",
    "Run: {run}; eval set: {eval_file} ({samples} samples, {contexts} evaluated, {skipped} longer than the run's max "
    "length).":
        "训练目录：{run}；评估集：{eval_file}（{samples} 个样本，评估了 {contexts} 个，"
        "{skipped} 个超过训练时的最大长度）。",
    "Target: {target}. Fit counts the target reply and its end-of-turn token, as training does; perplexity is "
    "exp(mean loss per token).":
        "目标：{target}。拟合只计目标回复及其轮末 token，与训练时一致；困惑度 = exp(每个 token 的平均损失)。",
    "Replies sampled with temperature {temperature}, top_p {top_p}, at most {max_new_tokens} new tokens, seed {seed} "
    "+ context index (the same for every model).":
        "回复的采样设置：temperature {temperature}，top_p {top_p}，最多 {max_new_tokens} 个新 token，"
        "种子为 {seed} + 上下文序号（每个模型都一样）。",
    "Words are {ngrams} (no segmenter); gaps are model minus real; a good tuned model has smaller gaps than the base.":
        "“词”指{ngrams}，不做分词；差值 = 模型 − 真实回复；好的微调模型差值比 base 小。",
    "Columns: {columns}.": "各列：{columns}。",
    "Summary": "概要",
    "Fit: how likely are the real replies": "拟合：模型认为真实回复有多可能",
    "Style: generated vs real replies": "风格：生成的回复对比真实回复",
    "Collapse: variety of the replies": "坍缩：回复的多样性",
    "Side by side": "逐条对照",
    "How these numbers were made": "这些数字是怎么得出的",
    "qing eval: does it sound like me?": "qing eval：它说话像我吗？",
    "Context {index}": "上下文 {index}",
    "No contexts.": "没有上下文。",
    "{path} is not a model directory (no config.json in it).": "{path} 不是模型目录（里面没有 config.json）。",
    "merged model {path}": "合并后的模型 {path}",
    "{path} is not a LoRA adapter directory (no adapter_config.json in it).":
        "{path} 不是 LoRA 适配器目录（里面没有 adapter_config.json）。",
    "give a run directory, --merged DIR, or --model (with --adapter DIR).":
        "请给出训练目录、--merged DIR，或 --model（配合 --adapter DIR）。",
    "{model} + adapter {adapter}": "{model} + 适配器 {adapter}",
    "chatting with a GGUF needs llama-cpp-python: {install}.": "和 GGUF 模型聊天需要 llama-cpp-python：{install}。",
    "{path} is damaged or cut short; convert it again with `qing gguf`.":
        "{path} 已损坏或不完整；请用 `qing gguf` 重新转换。",
    "llama.cpp cannot load {path} ({reason}): the file is damaged or cut short, or made by a newer llama.cpp; convert "
    "it again with `qing gguf`.":
        "llama.cpp 无法加载 {path}（{reason}）：文件已损坏或不完整，或由更新版本的 llama.cpp 生成；"
        "请用 `qing gguf` 重新转换。",
    "Several lines: end a line with \\ to go on, or put them between \"\"\" lines. /reset clears the chat, /system "
    "TEXT changes the system prompt, /exit quits.":
        "多行输入：行尾加 \\ 换行，或用 \"\"\" 包起来。/reset 清空对话，/system 文本 换系统提示，/exit 退出。",
    "you: ": "你: ",
    "(chat cleared)": "（对话已清空）",
    "(system prompt changed, chat cleared)": "（系统提示已更新，对话已清空）",
    "them: ": "ta: ",
    "(no reply)": "（没有回复）",
    "engine: {engine} ({why})": "引擎：{engine}（{why}）",
    "listening on {host} with no API key: anyone who can reach this port can chat with your digital self; set "
    "--api-key or QING_SERVE_API_KEY.":
        "正在 {host} 上监听，却没有 API 密钥：任何能连到这个端口的人都能和你的数字分身聊天；"
        "请设置 --api-key 或 QING_SERVE_API_KEY。",
    "vLLM stopped with exit status {status}; its own messages above say why.":
        "vLLM 已退出，退出码 {status}；原因见上面它自己的输出。",
    "API key required": "需要 API 密钥",
    "no API key": "不需要 API 密钥",
    "system prompt: the run's": "系统提示：训练时的",
    "no system prompt": "没有系统提示",
    "serving {model} as model {name!r} at {url} ({key}; at most {concurrency} requests at once, {connections} "
    "connections open; {system})":
        "正在以模型名 {name!r} 提供 {model}，地址 {url}（{key}；最多同时 {concurrency} 个请求、{connections} 个连接；"
        "{system}）",
    "Ctrl+C stops it.": "按 Ctrl+C 停止。",
    "unknown --engine {engine!r}; use one of: {engines}.": "未知的 --engine {engine!r}；可选：{engines}。",
    "give a run directory (qing serve runs/qing), --gguf FILE, --merged DIR, or --model with --adapter.":
        "请给出训练目录（qing serve runs/qing）、--gguf FILE、--merged DIR，或 --model 配合 --adapter。",
    "--engine llama.cpp needs a GGUF: give --gguf FILE, or run `qing gguf RUN_DIR` first.":
        "--engine llama.cpp 需要 GGUF 文件：请给出 --gguf FILE，或先运行 `qing gguf RUN_DIR`。",
    "{directory} holds {file} and no adapter": "{directory} 里有 {file}，没有适配器",
    "--gguf given": "给了 --gguf",
    "asked for": "按你的指定",
    "--engine {engine} serves Hugging Face weights, not a GGUF; use --engine llama.cpp.":
        "--engine {engine} 加载 Hugging Face 权重，不能加载 GGUF；请用 --engine llama.cpp。",
    "vLLM is installed and CUDA is present (batched generation for many chats at once)":
        "已安装 vLLM，且有 CUDA（批量生成，可同时应付许多会话）",
    "{reason}; fine for one user, slow for many": "{reason}；一个人用足够，多人同时用会慢",
    "vLLM is not installed": "没有安装 vLLM",
    "torch is not installed": "没有安装 torch",
    "no CUDA GPU (vLLM needs one)": "没有 CUDA GPU（vLLM 需要）",
    "refusing connections: {count} are open (--max-connections); a client may be holding many open on purpose":
        "正在拒绝新连接：已有 {count} 个连接（--max-connections）；可能有客户端故意占着大量连接",
    "cannot listen on {host}:{port} ({reason}); pick another --port or --host.":
        "无法在 {host}:{port} 上监听（{reason}）；请换一个 --port 或 --host。",
    "starting vLLM: {command}": "正在启动 vLLM：{command}",

    # --- the commands: qing/cli/ (options, doctor, demo, the commands' own lines), qing/config.py, qing/parallel.py ---
    "{version}: older than 2.6, which transformers 5 and accelerate need":
        "{version}：低于 2.6，而 transformers 5 和 accelerate 需要 2.6 以上",
    "on a GPU box choose an image with torch 2.6 or newer; else pip replaces this torch (a CUDA build) with a "
    "download of its own":
        "在 GPU 机器上请选 torch 2.6 或更新的镜像；否则 pip 会另外下载一个 torch 替换掉镜像里的 CUDA 版",
    "unknown time zone {name!r}; use an IANA name such as Asia/Shanghai.":
        "未知时区 {name!r}；请使用 IANA 时区名，例如 Asia/Shanghai。",
    "a worker process died (out of memory, or killed); run again with --workers 1.":
        "有一个工作进程意外退出（内存不足，或被终止）；请加 --workers 1 重新运行。",
    "Key for {name} (not shown): ": "{name} 的密钥（输入时不显示）：",
    "{path} is encrypted and no key was given ({variable} is set: did you mean QING_KEY?): pass --key, set QING_KEY in "
    "the environment or .env, or run in a terminal to be asked for it.":
        "{path} 已加密，但没有给出密钥（设置了 {variable}：是想写 QING_KEY 吗？）：请用 --key 传入，或在环境变量或 "
        ".env 里设置 QING_KEY，或在终端里运行以便输入密钥。",
    "{path} is encrypted and no key was given: pass --key, set QING_KEY in the environment or .env, or run in a "
    "terminal to be asked for it.":
        "{path} 已加密，但没有给出密钥：请用 --key 传入，或在环境变量或 .env 里设置 QING_KEY，"
        "或在终端里运行以便输入密钥。",
    "decrypting ...": "正在解密……",
    "no rows": "没有数据行",
    "QQ NT header stripped": "已去掉 QQ NT 文件头",
    "no QQ NT header": "没有 QQ NT 文件头",
    "opened with {hmac} ({header}; {wal})": "已用 {hmac} 打开（{header}；{wal}）",
    "wrote {output} ({size:.1f} MB, {rows}) in {seconds:.1f} s":
        "已写入 {output}（{size:.1f} MB，{rows}），用时 {seconds:.1f} 秒",
    "no WAL": "没有 WAL",
    "{count} WAL frame included": "包含 {count} 个 WAL 帧",
    "{count} WAL frames included": "包含 {count} 个 WAL 帧",
    "{count} process": "{count} 个进程",
    "{count} processes": "{count} 个进程",
    "found {path} ({kind})": "找到 {path}（{kind}）",
    "reading {source} ...": "正在读取 {source}……",
    "reading {source}: {count:,} messages": "正在读取 {source}：{count:,} 条消息",
    "wrote {output}: {messages:,} messages in {chats:,} chats from {source} in {seconds:.1f} s ({rate:,.0f} "
    "messages/s, {processes})":
        "已写入 {output}：来自 {source} 的 {chats:,} 个会话、{messages:,} 条消息，用时 {seconds:.1f} 秒（每秒 "
        "{rate:,.0f} 条消息，{processes}）",
    "by kind: {kinds}": "按类型：{kinds}",
    "exporting": "导出中",
    "msg": "条",
    "wrote {output}: {messages:,} messages in {chats:,} chats in {seconds:.1f} s ({rate:,.0f} rows/s, {processes}); "
    "{mine:,} sent by {owner}":
        "已写入 {output}：{chats:,} 个会话、{messages:,} 条消息，用时 {seconds:.1f} 秒（每秒 {rate:,.0f} 行，"
        "{processes}）；其中 {mine:,} 条是 {owner} 发的",
    "none": "无",
    "skipped: {counts}": "已跳过：{counts}",
    "kept with parts left out: {counts}": "保留但省略了部分内容：{counts}",
    "warning": "警告",
    "none of the messages was sent by {owner}; check --me.": "没有一条消息是 {owner} 发的；请检查 --me。",
    "owner: {owner} (--me)": "你的账号：{owner}（--me）",
    "owner: {owner} (detected)": "你的账号：{owner}（自动识别）",
    "chat {chat}: {count:,} messages, {mine:,} yours": "会话 {chat}：{count:,} 条消息，其中你发的 {mine:,} 条",
    "chat {chat}: {count:,} messages, none yours: is this your export?":
        "会话 {chat}：{count:,} 条消息，没有一条是你发的：这是你的导出吗？",
    "reading": "读取中",
    "step": "步骤",
    "count": "数量",
    "why": "原因",
    "messages read": "读入的消息",
    "{count:,} yours": "你发的 {count:,} 条",
    "messages dropped": "丢弃的消息",
    "turns dropped": "丢弃的轮次",
    "turns changed": "改动的轮次",
    "samples dropped": "丢弃的样本",
    "personal data redacted": "遮盖的个人信息",
    "samples written": "写出的样本",
    "train {train:,}, eval {eval:,}, {tokens:,} tokens ({method})":
        "训练集 {train:,}，验证集 {eval:,}，共 {tokens:,} 个 token（{method}）",
    "turn length (characters): median {turn_median}, p90 {turn_p90}, max {turn_max}; sample tokens: median "
    "{sample_median}, p90 {sample_p90}, max {sample_max}":
        "每轮长度（字符）：中位数 {turn_median}，p90 {turn_p90}，最大 {turn_max}；样本 token 数：中位数 "
        "{sample_median}，p90 {sample_p90}，最大 {sample_max}",
    "done in {seconds:.1f} s ({rate:,.0f} messages/s, {processes}); report: {report}":
        "完成，用时 {seconds:.1f} 秒（每秒 {rate:,.0f} 条消息，{processes}）；报告：{report}",
    "no training sample was made; see the dropped counts above.": "没有生成任何训练样本；请看上面丢弃的数量。",
    "{url} is reachable; models: {models}": "{url} 可以连接；模型：{models}",
    "give the dataset directory that `qing clean` wrote, e.g. qing clean-llm dataset.":
        "请给出 `qing clean` 写出的数据集目录，例如 qing clean-llm dataset。",
    "scoring": "评分中",
    "samples": "样本",
    "{count} failed": "{count} 个失败",
    "scores  {histogram}": "评分  {histogram}",
    "kept train {train:,}, eval {eval:,}; dropped {dropped} -> {output}":
        "保留训练集 {train:,}、验证集 {eval:,}；丢弃 {dropped} -> {output}",
    "{sent} requests ({retries} retries, {splits} splits), {prompt_tokens:,} prompt tokens, {cached} from the cache, "
    "in {seconds:.1f} s":
        "{sent} 次请求（重试 {retries} 次，拆分 {splits} 次），提示词 {prompt_tokens:,} 个 token，{cached} 个来自缓存，"
        "用时 {seconds:.1f} 秒",
    "step {step}/{max_steps}  eval loss {loss:.4f}": "第 {step}/{max_steps} 步  验证损失 {loss:.4f}",
    "before training  eval loss {loss:.4f}": "训练前  验证损失 {loss:.4f}",
    "step {step}/{max_steps}  epoch {epoch:.2f}  loss {loss:.4f}  lr {lr:.2e}  {speed:,.0f} tokens/s":
        "第 {step}/{max_steps} 步  轮次 {epoch:.2f}  损失 {loss:.4f}  学习率 {lr:.2e}  每秒 {speed:,.0f} token",
    "step {step}/{max_steps}  epoch {epoch:.2f}  loss {loss:.4f}  lr {lr:.2e}  {speed:,.0f} tokens/s  ETA "
    "{minutes}:{seconds:02d}":
        "第 {step}/{max_steps} 步  轮次 {epoch:.2f}  损失 {loss:.4f}  学习率 {lr:.2e}  每秒 {speed:,.0f} token  "
        "预计剩余 {minutes}:{seconds:02d}",
    "{checkpoint} kept, no adapter written yet; `{command}` continues from it.":
        "已保留 {checkpoint}，尚未写出适配器；`{command}` 可从它继续。",
    "{count} modules would get a LoRA (dry run: nothing trained).": "{count} 个模块会加上 LoRA（试运行：没有训练）。",
    "; eval loss {before:.4f} -> {after:.4f}": "；验证损失 {before:.4f} -> {after:.4f}",
    "; eval loss {loss:.4f}": "；验证损失 {loss:.4f}",
    "trained {steps} steps in {seconds:.0f} s ({speed:,.0f} tokens/s){evals} -> {outputs}":
        "训练了 {steps} 步，用时 {seconds:.0f} 秒（每秒 {speed:,.0f} token）{evals} -> {outputs}",
    "give a run directory (qing infer runs/qing), --merged DIR, --gguf FILE, or --model with --adapter.":
        "请给出运行目录（qing infer runs/qing）、--merged DIR、--gguf FILE，或 --model 加 --adapter。",
    "converting": "转换中",
    "wrote {output} ({size}, {outtype}) in {seconds:.1f} s":
        "已写入 {output}（{size}，{outtype}），用时 {seconds:.1f} 秒",
    "wrote {modelfile}: ollama create {name} -f {modelfile}": "已写入 {modelfile}：ollama create {name} -f {modelfile}",
    "give the GGUF file to quantize, e.g. qing quantize model-f16.gguf (--list shows types).":
        "请给出要量化的 GGUF 文件，例如 qing quantize model-f16.gguf（--list 列出所有类型）。",
    "wrote {output} ({size}, {qtype}; {ratio:.0%} of the input) in {seconds:.1f} s":
        "已写入 {output}（{size}，{qtype}；为输入的 {ratio:.0%}），用时 {seconds:.1f} 秒",
    "{modelfile} now points at {name}: ollama create NAME -f {modelfile}":
        "{modelfile} 现在指向 {name}：ollama create NAME -f {modelfile}",
    "evaluating": "评估中",
    "steps": "步",
    "qing eval: {count} contexts": "qing eval：{count} 段上下文",
    "{count} eval samples longer than the run's max length were skipped.":
        "跳过了 {count} 个超过本次运行最大长度的验证样本。",
    "wrote {files} in {seconds:.0f} s": "已写入 {files}，用时 {seconds:.0f} 秒",
    "(other path)": "（其他路径）",
    "(client went away)": "（客户端已断开）",
    "stopped.": "已停止。",
    "qing demo in {workdir}": "qing demo（在 {workdir}）",
    "output": "输出",
    "size": "大小",
    "time": "用时",
    "{seconds:.1f} s": "{seconds:.1f} 秒",
    "done in {seconds:.0f} s. Next: chat with it (qing infer {workdir}/runs/demo), or run it in Ollama (cd "
    "{workdir}/runs/demo && ollama create demo -f Modelfile); then the same with your own nt_msg.db and a real model "
    "on a GPU (README).":
        "完成，用时 {seconds:.0f} 秒。下一步：和它聊天（qing infer {workdir}/runs/demo），或在 Ollama 里运行它（cd "
        "{workdir}/runs/demo && ollama create demo -f Modelfile）；然后在 GPU 上用你自己的 nt_msg.db "
        "和真正的模型再做一遍（见 README）。",
    "ok": "正常",
    "warn": "警告",
    "FAIL": "失败",
    "check": "检查项",
    "found": "结果",
    "fix": "怎么修复",
    "required: {checks} - fix the rows marked FAIL above.": "缺少必需项：{checks}——请修复上面标为“失败”的行。",
    "ready (with warnings: {checks}).": "可以开始了（有警告：{checks}）。",
    "ready.": "可以开始了。",
    "{workdir} was not made by `qing demo`; refusing to replace it. Choose another --workdir.":
        "{workdir} 不是 `qing demo` 创建的，不会替换它。请用 --workdir 另选目录。",
    "{workdir} holds a finished demo; pass --force to run the demo again there, or --workdir.":
        "{workdir} 里已有一次完成的演示；加 --force 在那里重新运行，或用 --workdir 另选目录。",
    "{workdir} holds a demo that stopped half-way: starting it again.": "{workdir} 里有一次中途停下的演示：重新开始。",
    "(reply above)": "（回复见上）",
    "built-in sample: {count} invented messages of 小晴 and 4 friends, encrypted like QQ NT ({seconds:.1f} s) -> "
    "{folder}":
        "内置样例：小晴和 4 位朋友之间虚构的 {count} 条消息，按 QQ NT 的方式加密（{seconds:.1f} 秒）-> {folder}",
    "model: a tiny random Qwen3 built here (on a GPU box, use --model Qwen/Qwen3-8B-Base for the real thing) -> "
    "tiny-model":
        "模型：在这里构建的一个随机初始化的微型 Qwen3（在 GPU 机器上，用 --model Qwen/Qwen3-8B-Base 跑真正的模型）-> "
        "tiny-model",
    "every step below runs there": "下面每一步都在该目录中运行",
    "the sample's key; yours comes from your own QQ (see README)": "样例的密钥；你的密钥来自你自己的 QQ（见 README）",
    "the demo's {step} step failed (exit {code}); its message is above.":
        "演示的 {step} 步骤失败（退出码 {code}）；它的报错在上面。",
    "qing needs Python 3.10 or newer.": "qing 需要 Python 3.10 或更新的版本。",
    "not importable ({error}); needed for {needed_for}": "无法导入（{error}）；{needed_for} 需要它",
    "torch is not installed, so no GPU check": "没有安装 torch，因此不检查 GPU",
    "no CUDA GPU: finetune and infer run on the CPU (fine for `qing demo`, far too slow for a real model)":
        "没有 CUDA GPU：finetune 和 infer 会在 CPU 上运行（跑 `qing demo` 没问题，跑真正的模型就太慢了）",
    "rent a GPU box (an RTX 4090, 24 GB, fits Qwen3-8B QLoRA) or install a CUDA build of torch":
        "租一台 GPU 机器（一张 24 GB 的 RTX 4090 就够 Qwen3-8B QLoRA），或安装 CUDA 版的 torch",
    "needs CUDA; without it --quant 4bit trains unquantized": "需要 CUDA；没有它时 --quant 4bit 会不经量化直接训练",
    "on a CUDA machine: pip install bitsandbytes": "在有 CUDA 的机器上：pip install bitsandbytes",
    "less than 20 GB: use --quant 4bit and --max-length 1024, or a smaller model":
        "不到 20 GB：请用 --quant 4bit 和 --max-length 1024，或换一个更小的模型",
    "{name}, {total:.1f} GiB ({free:.1f} free), bf16 yes": "{name}，{total:.1f} GiB（空闲 {free:.1f}），支持 bf16",
    "{name}, {total:.1f} GiB ({free:.1f} free), bf16 no": "{name}，{total:.1f} GiB（空闲 {free:.1f}），不支持 bf16",
    "not importable ({error}): finetune runs without fused kernels and one row per micro-step, slower":
        "无法导入（{error}）：finetune 将不用融合内核、每个微步只处理一行，速度较慢",
    "pip install liger-kernel (in the train extra)": "pip install liger-kernel（包含在 train 扩展里）",
    "{version} (fused kernels for finetune)": "{version}（finetune 的融合内核）",
    "NF4 layer runs ({version})": "NF4 层可以运行（{version}）",
    "4-bit does not work here ({error})": "4-bit 在这台机器上不可用（{error}）",
    "pip install -U bitsandbytes (matching your CUDA), or train with --quant none / 8bit":
        "pip install -U bitsandbytes（与你的 CUDA 版本匹配），或用 --quant none / 8bit 训练",
    "{free:.0f} GB free in {folder}; model {model} is local; a merge and a GGUF need about {need:.1f} GB more":
        "{folder} 剩余 {free:.0f} GB；模型 {model} 在本地；合并和 GGUF 还需要约 {need:.1f} GB",
    "{free:.0f} GB free in {folder}; {model}: about {size} GB to download; with a merged copy and GGUF files "
    "~{need:.0f} GB":
        "{folder} 剩余 {free:.0f} GB；{model}：需下载约 {size} GB；加上合并后的副本和 GGUF 文件约 {need:.0f} GB",
    "disk": "磁盘",
    "free some space, or point --models-dir / -o at a bigger disk": "请腾出空间，或把 --models-dir / -o 指向更大的磁盘",
    "llama-quantize in {folder}": "llama-quantize 在 {folder}",
    "{checkout} has no built llama-quantize": "{checkout} 里没有编译好的 llama-quantize",
    "build it: cmake -B build && cmake --build build --target llama-quantize":
        "编译它：cmake -B build && cmake --build build --target llama-quantize",
    "llama-cpp-python {version}: quantize and GGUF chat work": "llama-cpp-python {version}：量化和 GGUF 对话都可用",
    "llama-cpp-python is not installed: `qing quantize` cannot run":
        "没有安装 llama-cpp-python：`qing quantize` 无法运行",
    "pip install 'qing[gguf]' (compiles llama.cpp, ~5 min), or pass --llama-cpp DIR":
        "pip install 'qing[gguf]'（会编译 llama.cpp，约 5 分钟），或传入 --llama-cpp DIR",
    "llm server": "LLM 服务器",
    "none configured (only `qing clean-llm` needs one; QING_LLM_BASE_URL)":
        "未配置（只有 `qing clean-llm` 需要；QING_LLM_BASE_URL）",
    "{url} answers; models: {models}": "{url} 有响应；模型：{models}",
    "{url} answers (asks for an API key: QING_LLM_API_KEY)": "{url} 有响应（需要 API 密钥：QING_LLM_API_KEY）",
    "{url} answered HTTP {code}": "{url} 返回了 HTTP {code}",
    "check --base-url ends with /v1": "检查 --base-url 是否以 /v1 结尾",
    "{url} is not reachable ({error})": "{url} 无法连接（{error}）",
    "start LM Studio's server / `ollama serve` / vLLM, or fix QING_LLM_BASE_URL":
        "启动 LM Studio 的服务器 / `ollama serve` / vLLM，或修正 QING_LLM_BASE_URL",
    "no .env here (settings come from flags and the environment)": "这里没有 .env（设置来自命令行参数和环境变量）",
    ".env permissions": ".env 权限",
    "{path} is readable by other users and may hold your database key":
        "{path} 其他用户可读，而它可能存有你的数据库密钥",
    "{count} keys, all recognised": "{count} 个键，全部可识别",
    "{key} (did you mean {close}?)": "{key}（是想写 {close} 吗？）",
    "unknown keys, most likely typos: {keys}": "未知的键，多半是拼写错误：{keys}",
    "fix the names; .env.example lists every key": "请改正名字；.env.example 列出了所有键",
}
