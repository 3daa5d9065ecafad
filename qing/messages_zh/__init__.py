"""The Chinese of every message qing shows: English template (as written in the code, inside `_()`) -> Chinese.

Keep each template's {placeholders} in its Chinese (tests/test_i18n.py checks them, that every `_()` of the code
is here, that nothing else is, and that no template is in two modules). One module per part of the package, in
pipeline order: a template is in the module of the part that first says it. Terms: 数据库 database, 密钥 key,
消息 message, 会话 chat, 样本 sample, 训练 training, 微调 finetune, 模型 model, 适配器 adapter, 量化 quantize,
输出 output; commands, options and file names stay as typed (qing export, --force, messages.jsonl).
"""

from qing.messages_zh import commands, dataset, frame, model, sources

PARTS = (frame, sources, dataset, model, commands)
ZH = {english: chinese for part in PARTS for english, chinese in part.ZH.items()}
