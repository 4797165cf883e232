"""SBPS's link type (リンク型) as an agency's payment gateway."""
