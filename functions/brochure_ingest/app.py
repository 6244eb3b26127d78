"""S3 ObjectCreated on the brochures bucket → the uploaded PDF read into the Knowledge table."""

from leadbot.startup import frozen_imports

with frozen_imports():  # the cold start's imports: see leadbot.startup
    import warnings
    from typing import Any

    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from leadbot.services.brochures import ingest_upload, uploaded_objects
    from leadbot.services.runtime import repositories, uploaded_brochures


logger = Logger()
metrics = Metrics(namespace="LeadBot")
# A request that changed nothing countable publishes no metrics: that is normal, not a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A store failing fails the invocation: Lambda tries twice more, then parks the event in
    # BrochureIngestDLQ. Reading again is harmless: the same PDF gives the same chunks.
    reads = []
    for upload in uploaded_objects(event):
        read = ingest_upload(repositories(), uploaded_brochures(upload.bucket), upload.key)
        logger.info("brochure upload", extra=read.as_dict())
        name = f"BrochureUploads{read.outcome.value.capitalize()}"
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        reads.append(read.as_dict())
    return {"reads": reads}
