"""The model: a base model fetched (`download`), fine-tuned on the samples into a run folder (`finetune`, owned by
`run`), then talked to (`infer`, `serve`), measured (`eval`) and converted for llama.cpp (`gguf`, `quantize`).
`chat_format` is the one renderer of conversations that training and inference share."""
