"""qing: turn your own QQ chat history into a chat model that talks like you."""

__version__ = "0.1.0"
