// The artifact viewers: how each kind of artifact is shown wherever it appears.
import "./viewers.css";

export { ArtifactView, DATASET_PREVIEW_BYTES, PARQUET_PREVIEW_MAX_BYTES } from "./ArtifactView";
export type { ArtifactLoader, ArtifactViewProps, ByteRange } from "./ArtifactView";
export { ConfusionMatrix, heatStyle, parseConfusionMatrix } from "./ConfusionMatrix";
export type { ConfusionMatrixData, ConfusionMatrixProps } from "./ConfusionMatrix";
export { DatasetPreview } from "./DatasetPreview";
export type { DatasetPreviewProps } from "./DatasetPreview";
export { isParquet, previewDataset, PREVIEW_ROWS } from "./dataset";
export type { DatasetFormat, PreviewOptions, TablePreview } from "./dataset";
export { formatNumber, formatValue } from "./format";
export { HtmlView } from "./HtmlView";
export type { HtmlViewProps } from "./HtmlView";
export { MarkdownView, RocCurve } from "./lazy";
export type { MarkdownViewProps } from "./MarkdownView";
export { MetadataTable, MetricsTable } from "./MetricsTable";
export type { MetadataTableProps, MetricsTableProps } from "./MetricsTable";
export { rocSeries } from "./roc";
export type { RocPoint, RocSeries } from "./roc";
export type { RocCurveProps } from "./RocCurve";
