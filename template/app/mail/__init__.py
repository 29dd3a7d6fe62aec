"""E-mail: messages composed from the templates in templates/, and their delivery."""
