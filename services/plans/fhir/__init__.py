"""Plans' FHIR R4 read API: Borgerens Plan as ``CarePlan`` with its ``Goal``s, the network as
``CareTeam`` and the citizen's consents as ``Consent`` (``resources``: the pure mapping; ``reads``: the
use cases, on the REST API's access rules; ``api``: the routes)."""
