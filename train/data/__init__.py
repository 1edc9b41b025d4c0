"""The data layer: labelled units loaded through HuggingFace ``datasets``, checked and split by article."""
