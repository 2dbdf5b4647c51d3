"""How the app hands a generated document to the browser."""

DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ZIP_MIMETYPE = "application/zip"


def attachment_response(content: bytes, filename: str, content_type: str):
    """An attachment that no cache keeps: every document names children."""
    return (
        content,
        200,
        {
            "Content-Type": content_type,
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def docx_response(content: bytes, filename: str):
    return attachment_response(content, filename, DOCX_MIMETYPE)
