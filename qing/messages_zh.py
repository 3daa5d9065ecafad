"""The Chinese of every message qing shows: English template (as written in the code, inside `_()`) -> Chinese.

Keep each template's {placeholders} in its Chinese (tests/test_i18n.py checks them, and that every `_()` of the
code is here and nothing else is). One section per part of the package, in pipeline order. Terms: 数据库 database,
密钥 key, 消息 message, 会话 chat, 样本 sample, 训练 training, 微调 finetune, 模型 model, 适配器 adapter,
量化 quantize, 输出 output; commands, options and file names stay as typed (qing export, --force, messages.jsonl).
"""

ZH = {
    # --- the frame every command shares: qing/cli/app.py, qing/extras.py, qing/files.py, qing/config.py ---
    "error:": "错误：",
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
    "database": "数据库",
    "profile database": "资料数据库",
    "dataset file": "数据集文件",
    "messages file": "消息文件",
    "replacements file": "替换规则文件",

    # --- where messages come from: qing/sources/ (decrypt, export, QQ NT, QCE, WeClone, Telegram) ---

    # --- the dataset: qing/dataset/ (clean, personal data, clean-llm) ---

    # --- the model: qing/model/ (run folder, finetune, infer, gguf, quantize, eval, serve) ---

    # --- the commands: qing/cli/ (options, doctor, demo, the commands' own lines), qing/config.py, qing/parallel.py ---
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
    "no adapter was written; `{command}` continues from the last checkpoint.":
        "没有写出适配器；`{command}` 可以从最后一个检查点继续。",
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
}
