"""Referrals' FHIR R4 read API: a referral as ``ServiceRequest``, a placement as ``EpisodeOfCare``
(``resources``: the pure mapping; ``reads``: the use cases, on the case's access rule; ``api``: routes)."""
