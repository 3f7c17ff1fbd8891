"""The sample corpus a fresh install ships: real medical images carried by installed PyPI packages.

Sources: pydicom's test files (its own and those of the pydicom-data package), scikit-image's bundled
data and nibabel's test data. Only files installed with those packages are used, so building the
sample needs no network. Captions were written for this project after looking at each rendered
image; they describe what is visible and name a diagnosis only where the source file itself does.
No Django imports here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from apps.corpus import modality as m
from apps.corpus.imaging import dicom_to_image, make_thumbnail, volume_to_image
from apps.corpus.records import EntryRecord

MAX_SIDE = 1024  # long side of a stored sample image, in pixels: at most…
MIN_SIDE = 256  # …and at least

SOURCE_URLS = {
    "pydicom": "https://github.com/pydicom/pydicom/tree/main/src/pydicom/data/test_files",
    "pydicom-data": "https://github.com/pydicom/pydicom-data",
    "nibabel": "https://github.com/nipy/nibabel",
    "scikit-image": "https://scikit-image.org/docs/stable/api/skimage.data.html",
}
WG04 = "the NEMA DICOM WG04 compression test set (ftp://medical.nema.org/MEDICAL/Dicom/DataSets/WG04)"
GDCM = "the GDCM project's test data (https://github.com/malaterre/GDCM)"
# pydicom's test-file README says of its images only: "I believe there is no restriction on using
# any of these files in this manner"; it lists the images that came from GDCM under GDCM's BSD licence.
NO_LICENCE_STATED = "The package states no separate licence for the image."
GDCM_LICENCE = "pydicom lists GDCM's data sets under GDCM's BSD licence."


def _fit(render: Callable[[], Image.Image]) -> Image.Image:
    image = make_thumbnail(render(), MAX_SIDE)
    # Small volume slices and crops (33×41 px) are enlarged by a whole factor, as a viewer would,
    # so that pages and encoders do not receive postage stamps.
    factor = -(-MIN_SIDE // max(image.size))
    if factor > 1:
        image = image.resize((image.width * factor, image.height * factor), Image.Resampling.BICUBIC)
    return image


def _pydicom_file(name: str) -> Path:
    from pydicom.data import get_testdata_file

    # download=False: the pydicom-data package installs its files; never reach for the network.
    path = get_testdata_file(name, download=False)
    if path is None:
        raise FileNotFoundError(f"pydicom test file {name} is not installed (pip install pydicom-data)")
    return Path(path)


def _nibabel_file(*parts: str) -> Path:
    import nibabel

    return Path(nibabel.__file__).parent.joinpath(*parts)


def _render_dicom(path: Path, *, frame: int | None = None) -> Image.Image:
    import pydicom

    return dicom_to_image(pydicom.dcmread(path), frame=frame)


def _render_pancreas_ct() -> Image.Image:
    # This file has no window of its own and stores its rows from posterior to anterior (Image
    # Orientation 1,0,0,0,-1,0): give it a soft-tissue window and flip it to the usual display.
    import pydicom

    ds = pydicom.dcmread(_pydicom_file("explicit_VR-UN.dcm"))
    ds.WindowCenter, ds.WindowWidth = 40, 400
    return ImageOps.flip(dicom_to_image(ds))


def _render_tof_mip() -> Image.Image:
    # Only rows 154-230 of this test file hold image data; nibabel blanked the rest.
    image = _render_dicom(_nibabel_file("nicom", "tests", "data", "slicethickness_empty_string.dcm"))
    return image.crop((0, 154, image.width, 231))


def _render_nifti(name: str, *, axis: int, index: int | None) -> Image.Image:
    import nibabel

    image = nibabel.as_closest_canonical(nibabel.load(_nibabel_file("tests", "data", name)))
    volume = np.asanyarray(image.dataobj)
    if index is not None:  # a chosen slice instead of the middle one
        volume = np.take(volume, [index], axis=axis)
    return volume_to_image(volume, axis=axis)


def _render_skimage(name: str) -> Image.Image:
    from skimage import data

    return Image.fromarray(getattr(data, name)())


def _entry(
    external_id: str,
    modality: str,
    caption: str,
    keywords: list[str],
    *,
    package: str,
    file: str,
    licence: str,
    attribution: str,
    render: Callable[[], Image.Image],
) -> EntryRecord:
    return EntryRecord(
        external_id=external_id,
        caption=caption,
        modality=modality,
        keywords=keywords,
        licence_raw=licence,
        attribution=attribution,
        source_url=SOURCE_URLS[package],
        image_name=file,
        render=partial(_fit, render),
    )


def _pydicom(
    external_id: str,
    modality: str,
    file: str,
    caption: str,
    keywords: list[str],
    *,
    origin: str,
    package: str = "pydicom-data",
    licence: str = "MIT",
    note: str = NO_LICENCE_STATED,
    frame: int | None = None,
    render: Callable[[], Image.Image] | None = None,
) -> EntryRecord:
    # Both pydicom packages are MIT-licensed; `note` says what applies to the image itself.
    attribution = (
        f"Test file {file} distributed in the MIT-licensed {package} package; "
        f"original source: {origin}. {note}"
    )
    return _entry(
        external_id,
        modality,
        caption,
        keywords,
        package=package,
        file=file,
        licence=licence,
        attribution=attribution,
        render=render or (lambda: _render_dicom(_pydicom_file(file), frame=frame)),
    )


def _nibabel(
    external_id: str,
    modality: str,
    file: str,
    caption: str,
    keywords: list[str],
    *,
    render: Callable[[], Image.Image],
) -> EntryRecord:
    attribution = (
        f"Test data {file} distributed in the MIT-licensed nibabel package; nibabel does not document the "
        f"image's original source. {NO_LICENCE_STATED}"
    )
    return _entry(
        external_id,
        modality,
        caption,
        keywords,
        package="nibabel",
        file=file.rsplit("/", 1)[-1],
        licence="MIT",
        attribution=attribution,
        render=render,
    )


def _nifti_slice(file: str, axis: int, index: int | None = None) -> Callable[[], Image.Image]:
    return partial(_render_nifti, file, axis=axis, index=index)


def _skimage(
    external_id: str, name: str, file: str, caption: str, keywords: list[str], *, licence: str, credit: str
) -> EntryRecord:
    attribution = f"scikit-image (skimage.data.{name}); original: {credit}"
    return _entry(
        external_id,
        m.OTHER,
        caption,
        keywords,
        package="scikit-image",
        file=file,
        licence=licence,
        attribution=attribution,
        render=partial(_render_skimage, name),
    )


def sample_entries() -> list[EntryRecord]:
    """The sample corpus; each image is rendered only when its entry's `render` is called."""
    return _dicom_samples() + _volume_samples() + _photograph_samples()


def _dicom_samples() -> list[EntryRecord]:
    echo = "not documented by pydicom (a 120-frame SonoSite cine loop)"
    return [
        _pydicom(
            "sample-chest-xray",
            m.RADIOGRAPH,
            "RG1_UNCR.dcm",
            "Posteroanterior (PA) chest radiograph of an adult. Multiple rounded opacities of different "
            "sizes are scattered through both lungs.",
            ["chest", "radiograph", "PA view", "lung", "pulmonary nodules"],
            origin=WG04,
        ),
        _pydicom(
            "sample-tibia-xray",
            m.RADIOGRAPH,
            "RG3_UNCR.dcm",
            "Anteroposterior radiograph of the right lower leg and ankle. A well-defined, lobulated lucent "
            "lesion with a thin sclerotic rim lies in the distal tibial metaphysis; the source file's study "
            "description names it a non-ossifying fibroma. The side marker reads mirrored as stored.",
            ["tibia", "ankle", "radiograph", "bone lesion", "non-ossifying fibroma"],
            origin=WG04,
        ),
        _pydicom(
            "sample-head-ct-extra-axial-collection",
            m.CT,
            "693_UNCR.dcm",
            "Axial non-contrast CT of the head in a brain window. A crescent-shaped low-density collection "
            "with a thin internal septum lies over the left cerebral convexity (image right), and the "
            "frontal midline is displaced towards the right.",
            ["head", "brain", "CT", "axial", "extra-axial collection", "midline shift"],
            origin="regression data set of pydicom issue #693 (https://github.com/pydicom/pydicom/issues/693)",
        ),
        _pydicom(
            "sample-head-ct-skull-base",
            m.CT,
            "J2K_pixelrep_mismatch.dcm",
            "Axial CT of the head at the level of the skull base in a brain window, showing the air-filled "
            "frontal sinuses, the temporal lobes in the middle cranial fossae, the mastoid air cells of both "
            "temporal bones, and the brainstem and cerebellum in the posterior fossa.",
            ["head", "brain", "CT", "axial", "skull base", "posterior fossa"],
            origin="data set of pydicom issue #1149 (https://github.com/pydicom/pydicom/issues/1149)",
            package="pydicom",
        ),
        _pydicom(
            "sample-abdomen-ct-pancreas",
            m.CT,
            "explicit_VR-UN.dcm",
            "Axial contrast-enhanced CT of the upper abdomen in a soft-tissue window at the level of the "
            "kidneys, showing the liver, the pancreas in front of the aorta, both kidneys, the spleen, and "
            "gas in the stomach and bowel.",
            ["abdomen", "CT", "axial", "pancreas", "kidney", "liver"],
            origin="The Cancer Imaging Archive (https://www.cancerimagingarchive.net), freely available "
            "de-identified data (series labelled 'Pancreas', NIH), via pydicom issue #968",
            render=_render_pancreas_ct,
        ),
        _pydicom(
            "sample-thoracic-spine-ct",
            m.CT,
            "CT_small.dcm",
            "Small cropped axial contrast-enhanced CT image centred on a thoracic vertebra, showing the "
            "vertebral body, spinal canal and a posterior rib, with lung on either side and the "
            "contrast-filled descending aorta beside the spine.",
            ["thorax", "spine", "vertebra", "CT", "axial", "aorta"],
            origin=f"file CT1_UNC of {WG04}, downsized to 128x128 by pydicom",
            package="pydicom",
        ),
        _pydicom(
            "sample-bone-scan",
            m.NUCLEAR,
            "JPEG2000_UNC.dcm",
            "Whole-body bone scintigraphy (one projection), heavily blurred by the lossy JPEG 2000 "
            "compression the source file went through: the skeleton is only roughly outlined, and the "
            "urinary bladder shows intense activity.",
            ["bone scan", "scintigraphy", "nuclear medicine", "whole body"],
            origin=f"file NM1_J2KI of {WG04}, edited by pydicom",
        ),
        _pydicom(
            "sample-shoulder-mri",
            m.MRI,
            "MR2_UNCR.dcm",
            "Oblique coronal T1-weighted spin-echo MR image of the shoulder, showing the humeral head in the "
            "glenoid, the acromion above it and the deltoid muscle with its overlying subcutaneous fat.",
            ["shoulder", "MRI", "T1-weighted", "coronal", "humerus", "rotator cuff"],
            origin=WG04,
        ),
        _pydicom(
            "sample-abdomen-mri-liver-lesion",
            m.MRI,
            "MR-SIEMENS-DICOM-WithOverlays.dcm",
            "Axial contrast-enhanced, fat-suppressed T1-weighted gradient-echo MR image of the upper abdomen "
            "at the level of the kidneys. A round liver lesion with a thick enhancing rim lies in the right "
            "lobe; both kidneys show bright cortical enhancement.",
            ["abdomen", "liver", "MRI", "T1-weighted", "contrast-enhanced", "liver lesion"],
            origin=GDCM,
            licence="BSD-3-Clause",
            note=GDCM_LICENCE,
        ),
        _pydicom(
            "sample-lymph-node-doppler",
            m.ULTRASOUND,
            "US1_UNCR.dcm",
            "Power Doppler ultrasound of a lymph node, labelled on the image, shown in two side-by-side "
            "frames; colour signal marks blood flow within the oval node.",
            ["ultrasound", "power Doppler", "lymph node", "vascularity"],
            origin=WG04,
        ),
        _pydicom(
            "sample-pelvis-ultrasound",
            m.ULTRASOUND,
            "gdcm-US-ALOKA-16.dcm",
            "Two side-by-side greyscale ultrasound frames of the pelvis showing the anechoic, fluid-filled "
            "urinary bladder with soft tissue behind it.",
            ["ultrasound", "pelvis", "urinary bladder"],
            origin=GDCM,
            licence="BSD-3-Clause",
            note=GDCM_LICENCE,
        ),
        _pydicom(
            "sample-echo-four-chamber-valves-closed",
            m.ULTRASOUND,
            "color3d_jpeg_baseline.dcm",
            "Apical four-chamber echocardiogram (one frame of a cine loop) with the atrioventricular valve "
            "leaflets closed, seen as a line between the ventricles above and the atria below.",
            ["echocardiography", "ultrasound", "heart", "apical four-chamber view"],
            origin=echo,
            frame=30,
        ),
        _pydicom(
            "sample-echo-four-chamber-valves-open",
            m.ULTRASOUND,
            "color3d_jpeg_baseline.dcm",
            "Apical four-chamber echocardiogram (another frame of the same cine loop) with the "
            "atrioventricular valves open, so that ventricles and atria communicate.",
            ["echocardiography", "ultrasound", "heart", "apical four-chamber view"],
            origin=echo,
            frame=36,
        ),
        _pydicom(
            "sample-tee-colour-doppler",
            m.ULTRASOUND,
            "color-pl.dcm",
            "Small colour Doppler frame from a transoesophageal echocardiogram: red and blue flow signals "
            "within a sector of greyscale cardiac structures.",
            ["echocardiography", "transoesophageal", "colour Doppler", "ultrasound"],
            origin="not documented by pydicom",
        ),
    ]


def _volume_samples() -> list[EntryRecord]:
    anatomical, epi = "anatomical.nii", "example4d.nii.gz"
    return [
        _nibabel(
            "sample-brain-mri-axial-basal-ganglia",
            m.MRI,
            anatomical,
            "Axial T1-weighted MR image of the brain (small cropped field of view) at the level of the basal "
            "ganglia, showing the dark frontal horns of the lateral ventricles, the caudate heads and the "
            "thalami.",
            ["brain", "MRI", "T1-weighted", "axial", "basal ganglia", "lateral ventricles"],
            render=_nifti_slice(anatomical, axis=2),
        ),
        _nibabel(
            "sample-brain-mri-axial-midbrain",
            m.MRI,
            anatomical,
            "Axial T1-weighted MR image of the brain (small cropped field of view) at the level of the "
            "midbrain; the cerebral aqueduct is the small dark dot within the midbrain.",
            ["brain", "MRI", "T1-weighted", "axial", "midbrain"],
            render=_nifti_slice(anatomical, axis=2, index=1),
        ),
        _nibabel(
            "sample-brain-mri-sagittal",
            m.MRI,
            anatomical,
            "Sagittal T1-weighted MR image of the brain (small cropped field of view, front to the left), "
            "showing the bright arched corpus callosum and white matter above the dark lateral ventricle, "
            "which curves around the thalamus.",
            ["brain", "MRI", "T1-weighted", "sagittal", "corpus callosum"],
            render=_nifti_slice(anatomical, axis=0),
        ),
        _nibabel(
            "sample-brain-mri-coronal",
            m.MRI,
            anatomical,
            "Coronal T1-weighted MR image of the brain (small cropped field of view) through the frontal "
            "horns of the lateral ventricles, which appear dark on either side of the septum pellucidum.",
            ["brain", "MRI", "T1-weighted", "coronal", "lateral ventricles"],
            render=_nifti_slice(anatomical, axis=1),
        ),
        _nibabel(
            "sample-brain-fmri-epi",
            m.MRI,
            epi,
            "Axial echo-planar (T2*-weighted) MR image of the brain from a functional MRI time series, at "
            "the level of the lateral ventricles; cerebrospinal fluid appears bright.",
            ["brain", "MRI", "fMRI", "echo-planar imaging", "axial"],
            render=_nifti_slice(epi, axis=2),
        ),
        _nibabel(
            "sample-brain-fmri-epi-skull-base",
            m.MRI,
            epi,
            "Axial echo-planar (T2*-weighted) MR image of the lower brain from a functional MRI time series. "
            "The frontal lobes near the air-filled sinuses are distorted and lose signal, a typical "
            "susceptibility artefact of echo-planar imaging.",
            ["brain", "MRI", "fMRI", "echo-planar imaging", "susceptibility artefact"],
            render=_nifti_slice(epi, axis=2, index=2),
        ),
        _nibabel(
            "sample-brain-fmri-epi-high",
            m.MRI,
            epi,
            "Axial echo-planar (T2*-weighted) MR image of the upper brain from a functional MRI time series, "
            "through the bodies of the lateral ventricles, which appear bright.",
            ["brain", "MRI", "fMRI", "echo-planar imaging", "lateral ventricles"],
            render=_nifti_slice(epi, axis=2, index=19),
        ),
        _nibabel(
            "sample-mr-angiography-mip",
            m.ANGIOGRAPHY,
            "nicom/tests/data/slicethickness_empty_string.dcm",
            "Horizontal strip, the only part kept in the source test file, of a maximum-intensity projection "
            "from a 3-D time-of-flight MR angiogram of the brain; bright arteries run vertically through the "
            "suppressed background tissue.",
            ["MR angiography", "time-of-flight", "maximum-intensity projection", "arteries"],
            render=_render_tof_mip,
        ),
    ]


def _photograph_samples() -> list[EntryRecord]:
    return [
        _skimage(
            "sample-retina-fundus",
            "retina",
            "retina.jpg",
            "Colour fundus photograph of a normal left eye, showing the optic disc at the left, the retinal "
            "arteries and veins arching from it, and the darker macula with the fovea at the centre.",
            ["fundus photograph", "retina", "ophthalmology", "optic disc", "macula"],
            licence="CC0",
            credit="Mikael Häggström, 'Fundus photograph of normal left eye', Wikimedia Commons "
            "(https://commons.wikimedia.org/wiki/File:Fundus_photograph_of_normal_left_eye.jpg), "
            "CC0 1.0 Universal Public Domain Dedication.",
        ),
        _skimage(
            "sample-retina-microaneurysms",
            "microaneurysms",
            "microaneurysms.png",
            "Greyscale (green-channel) close-up of the retina of an eye with diabetic retinopathy, showing "
            "dark vessels and two small dark round dots that the source identifies as microaneurysms.",
            ["fundus photograph", "retina", "diabetic retinopathy", "microaneurysm"],
            licence="CC0",
            credit="crop of image 07_dr.JPG of the High-Resolution Fundus (HRF) Image Database "
            "(https://www5.cs.fau.de/research/data/fundus-images/), Budai et al. 2013, "
            "doi:10.1155/2013/154860; CC0 given by the owner, Andreas Maier.",
        ),
        _skimage(
            "sample-colon-immunohistochemistry",
            "immunohistochemistry",
            "ihc.png",
            "Immunohistochemistry of colonic glands: brown DAB staining marks FHL2 protein in the gland "
            "epithelium, and blue haematoxylin counterstains the nuclei of the surrounding stroma.",
            ["histology", "immunohistochemistry", "colon", "DAB", "haematoxylin"],
            licence="BSD-3-Clause",
            credit="acquired at the Center for Microscopy And Molecular Imaging (CMMI); distributed in the "
            "BSD-3-Clause licensed scikit-image package, which states 'No known copyright restrictions'.",
        ),
    ]
