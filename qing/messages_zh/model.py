"""Chinese of the model: qing/model/ (run folder, finetune, infer, gguf, quantize, eval, serve)."""

ZH = {
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
}
