"""Every string a person reads, in Dutch and English: the gettext catalogs, number and date
formats, and the command line's help in the reader's language."""
