"""The REST API (KFP v2beta1, what `kfp.Client` speaks): `create_app(platform)`.

Routes are thin shells over `dagyard.service`: parse, call one function, format.
"""
