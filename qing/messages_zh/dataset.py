"""Chinese of the dataset: qing/dataset/ (clean, personal data, clean-llm)."""

ZH = {
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
}
