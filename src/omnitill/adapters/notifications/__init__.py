"""Customer notifications: SMTP email, the SMS sandbox, and the message templates."""
