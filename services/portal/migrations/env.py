from services.portal.models import Base
from tovholder.migrations import run_env

run_env(Base.metadata)
