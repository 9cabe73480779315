"""Imported by a component that embeds this folder (kfp_sdk_embedded.py): the folder is
on the task's sys.path."""


def polarity(words: list[str], weights: dict[str, int]) -> int:
    return sum(weights.get(word, 0) for word in words)
