"""Deals: the payload a CRM sends (model.py), its checks (checks.py; ISO codes in codes.py, custom
fields in free_form.py), reading JSON (reading.py), flat CSV rows (flat.py), postcodes (postal.py)
and mapping a CRM's webhook onto a deal (crm.py)."""
