"""edgeui: run edge ML models (ONNX, TFLite/LiteRT) on live input and see what the model sees."""

__version__ = "0.1.0"
