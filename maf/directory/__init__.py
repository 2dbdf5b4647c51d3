"""Districts of the authority and the agencies whose practitioners take part in forums."""
