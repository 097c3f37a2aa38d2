"""Documents for people and tables from people: letters, report imports, spreadsheet reading."""
