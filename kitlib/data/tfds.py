"""TensorFlow Datasets (TFDS) by name, as unbatched uint8 RGB images; no silent downloads.

``tensorflow_datasets`` is imported on first use (it is slow to import). Without ``download=True`` only data that
is already prepared in ``data_dir`` is used; otherwise the error says where it was looked for and how to get it.

Example:
>>> flowers = tfds_dataset("tf_flowers", image_size=128, download=True)      # doctest: +SKIP
"""

from __future__ import annotations

import tensorflow as tf


def tfds_dataset(name: str, *, split: str = "train", data_dir: str | None = None, download: bool = False,
                 image_key: str = "image", image_size: int | None = None) -> tf.data.Dataset:
    """A TFDS dataset's images as an unbatched dataset of uint8 ``(H, W, 3)`` images (greyscale tiled to RGB).

    Args:
        name: TFDS name, optionally with config/version (``"cifar10"``, ``"celeb_a"``, ``"cycle_gan/monet2photo"``).
        split: split (``"train"``, ``"trainA"``, ``"test[:10%]"`` ...).
        data_dir: where TFDS data lives (default ``~/tensorflow_datasets`` or ``$TFDS_DATA_DIR``).
        download: download and prepare the data when absent (needs internet, e.g. in Colab).
        image_key: the feature holding the image.
        image_size: resize (shorter side) and centre-crop to this side; ``None`` keeps the stored size (batching
            then needs equal sizes).

    Returns:
        An unbatched ``tf.data.Dataset`` of uint8 images, in the stored (deterministic) order.

    Example:
    >>> monet = tfds_dataset("cycle_gan/monet2photo", split="trainA", download=True)   # doctest: +SKIP
    """
    if image_size is not None and int(image_size) < 1:
        raise ValueError(f"image_size must be a positive int or None. Received: image_size={image_size}")
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError as e:
        raise ValueError(f"TFDS has no dataset named {name!r} ({str(e).splitlines()[0]}). See "
                         "https://www.tensorflow.org/datasets/catalog/overview for the names.") from None
    if download:
        builder.download_and_prepare()
    elif not builder.is_prepared():
        raise FileNotFoundError(
            f"The TFDS dataset {name!r} is not prepared in {builder.data_dir} (data_dir={data_dir!r}). Get it with "
            f"tfds_dataset({name!r}, download=True) where there is internet (e.g. Colab), or copy a prepared "
            "tensorflow_datasets folder here and pass data_dir=.")
    features = builder.info.features
    keys = list(features.keys()) if hasattr(features, "keys") else []
    if image_key not in keys:
        raise ValueError(f"{name!r} has no feature {image_key!r}. Its features are {keys}: pass image_key=.")
    ds = builder.as_dataset(split=split, shuffle_files=False)

    def to_rgb(example):
        image = tf.convert_to_tensor(example[image_key])
        if image.dtype != tf.uint8:
            image = tf.image.convert_image_dtype(image, tf.uint8, saturate=True)
        if image.shape.rank == 2:
            image = image[..., None]
        channels = image.shape[-1]
        if channels == 1:
            image = tf.tile(image, [1, 1, 3])
        elif channels == 4:
            image = image[..., :3]
        image.set_shape([None, None, 3])
        if image_size is not None:
            from kitlib.data.folders import fit_image

            image = fit_image(image, int(image_size))
        return image

    return ds.map(to_rgb, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
