"""Provider adapters: one small interface (base.py), one module per way out."""
