"""Developer commands behind the Makefile: migrate, run, token."""

import warnings

# nameko imports eventlet, which warns on import; the warning is not ours to act on
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
