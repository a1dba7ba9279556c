"""Compliance rules of a lawful, affordable SMS campaign, as pure functions with no AWS code.

One module per rule, imported from where it is defined so that a path loads only the rules it
applies: phone numbers (`phone.normalize_phone`; `masking` hides them without loading a
numbering plan), encoding and segments (`encoding.analyze_text`), the final text with its STOP
mention (`message.compose_message`), sending windows (`window.SendWindowPolicy`,
`window.next_send_time`) and the classification of replies (`replies.classify_reply`).
"""
