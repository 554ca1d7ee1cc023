"""The referrals domain: visitation along the indsatstrappe, with no I/O.

Modules: ``model`` (the case and its parts), ``lifecycle`` (every change and its rules),
``offers`` (matching and waitlists), ``access`` (who sees what), ``citizen_view`` (plain Danish),
``report`` (the flow report), ``cpr`` (CPR validation), ``errors``.
"""
