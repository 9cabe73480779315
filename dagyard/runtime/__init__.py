"""Code that runs inside a task process.

Import cost must stay tiny: nothing here may import the server, SQLAlchemy, YAML, the SDK
compiler or anything outside the standard library. `artifacts` and `executor` are also
embedded as source in compiled lightweight components (`embed`), so that a plain
`python:3.x` image with nothing of ours installed can run them.
"""
