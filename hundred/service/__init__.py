"""The service: what hundred does, spoken to ports (ports.py) and recorded in rows (records.py):
the runtime (runtime.py), the CRM's intake (intake.py), the print room (printroom/), the
simulator (simulate.py) and the settings (settings.py). It imports no adapter."""
