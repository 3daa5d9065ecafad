"""Chinese of the commands' own lines: qing/cli/ (doctor, demo, summaries), qing/config.py, qing/parallel.py."""

ZH = {
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
