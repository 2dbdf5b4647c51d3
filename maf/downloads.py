"""How the app hands a generated document to the browser."""

DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def docx_response(content: bytes, filename: str):
    """An attachment that no cache keeps: every document names children."""
    return (
        content,
        200,
        {
            "Content-Type": DOCX_MIMETYPE,
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
