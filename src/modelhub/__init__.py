"""modelhub: a self-hosted hub that speaks the Hugging Face Hub protocol.

The client library (same public names as `huggingface_hub`) lands here; the server lives in
`modelhub.server` and is installed with the `server` extra.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
