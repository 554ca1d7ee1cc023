"""The municipality's staff register over SCIM 2.0 (``/scim/v2``): see ``tovholder/scim.py``."""
